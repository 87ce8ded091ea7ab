//! The merge rules, one fixture each, with figures known by construction.

use imgsize::analyze::{Report, Step};
use imgsize::model::WasteCause;

use crate::util::builder::{Image, Layer, docker_archive, oci_archive, oci_layout, write_tar};
use crate::util::{analyze, gzip, path_bytes, tmp, waste};

fn report(img: &Image) -> Report {
    crate::util::report_of(img)
}

fn tar_len(layer: &Layer) -> u64 {
    let mut buf = Vec::new();
    write_tar(layer, &mut buf).expect("tar");
    buf.len() as u64
}

fn sizes_of_a_plain_two_layer_image() {
    let l0 = Layer::new("ADD rootfs.tar /")
        .dir("etc")
        .file("etc/os-release", b"ID=test\n")
        .fill("bin/sh", 1000);
    let l1 = Layer::new("/bin/sh -c pip install app").fill("app/main.py", 250);
    let (t0, t1) = (tar_len(&l0), tar_len(&l1));
    let r = report(
        &Image::new("app:1")
            .layer(l0)
            .step("/bin/sh -c #(nop) ENV A=b")
            .layer(l1),
    );
    let t = &r.totals;
    assert_eq!(t.uncompressed_bytes, t0 + t1);
    assert_eq!(t.compressed_bytes, t0 + t1);
    assert_eq!(t.stored_bytes, 8 + 1000 + 250);
    assert_eq!(t.content_bytes, 1258);
    assert_eq!(t.wasted_bytes, 0);
    assert_eq!(t.files, 3);
    assert_eq!(r.layers[0].added_bytes, 1008);
    assert_eq!(r.layers[1].added_bytes, 250);
    assert_eq!(
        r.layers[1].created_by.as_deref(),
        Some("/bin/sh -c pip install app")
    );
    assert_eq!(r.image.reference.as_deref(), Some("app:1"));
    // Layer, metadata-only step, layer: in build order.
    assert!(matches!(
        r.steps.as_slice(),
        [Step::Layer(0), Step::Empty { .. }, Step::Layer(1)]
    ));
    assert_eq!(path_bytes(&r, "/bin/sh"), Some(1000));
    assert!(r.waste.rows.is_empty());
}

fn overwritten_file_is_waste_of_the_lower_layer() {
    let r = report(
        &Image::new("t")
            .layer(Layer::new("a").fill("data/x", 100))
            .layer(Layer::new("b").fill("data/x", 40)),
    );
    assert_eq!(r.totals.stored_bytes, 140);
    assert_eq!(r.totals.content_bytes, 40);
    assert_eq!(r.totals.wasted_bytes, 100);
    assert_eq!(
        waste(&r),
        vec![("/data/x".into(), 100, 0, 1, WasteCause::Overwritten)]
    );
    assert_eq!(r.layers[0].content_bytes, 0);
    assert_eq!(r.layers[1].content_bytes, 40);
}

fn whiteout_of_a_directory_wastes_its_whole_subtree() {
    let r = report(
        &Image::new("t")
            .layer(
                Layer::new("a")
                    .fill("root/.cache/pip/a.whl", 300)
                    .fill("root/.cache/pip/b/c.whl", 200)
                    .fill("keep", 7),
            )
            .layer(Layer::new("b").whiteout("root/.cache")),
    );
    assert_eq!(r.totals.wasted_bytes, 500);
    assert_eq!(r.totals.content_bytes, 7);
    let rows = waste(&r);
    let total: u64 = rows.iter().map(|w| w.1).sum();
    assert_eq!(total, 500);
    assert!(
        rows.iter()
            .all(|w| w.4 == WasteCause::Deleted && w.2 == 0 && w.3 == 1)
    );
    assert_eq!(r.totals.files, 1);
}

fn whiteouts_do_not_touch_their_own_layer() {
    // The same layer re-creates the path it whites out (order in the tar irrelevant).
    let r = report(
        &Image::new("t")
            .layer(Layer::new("a").fill("f", 10))
            .layer(Layer::new("b").fill("f", 3).whiteout("f")),
    );
    assert_eq!(r.totals.content_bytes, 3);
    assert_eq!(r.totals.wasted_bytes, 10);
}

fn opaque_dir_hides_lower_content_wherever_the_marker_sits() {
    for marker_first in [true, false] {
        let upper = Layer::new("b");
        let upper = if marker_first {
            upper.opaque("a").fill("a/bar", 5)
        } else {
            upper.fill("a/bar", 5).opaque("a")
        };
        let r = report(
            &Image::new("t")
                .layer(
                    Layer::new("a")
                        .fill("a/b/foo", 11)
                        .fill("a/top", 4)
                        .fill("other", 2),
                )
                .layer(upper),
        );
        assert_eq!(
            r.totals.content_bytes,
            5 + 2,
            "marker first: {marker_first}"
        );
        assert_eq!(r.totals.wasted_bytes, 15);
        assert!(waste(&r).iter().all(|w| w.4 == WasteCause::OpaqueDir));
    }
}

fn hardlinks_count_once_and_survive_deleting_the_first_name() {
    let r = report(
        &Image::new("t")
            .layer(
                Layer::new("a")
                    .fill("bin/busybox", 1000)
                    .hardlink("bin/sh", "bin/busybox")
                    .hardlink("bin/ls", "bin/busybox"),
            )
            .layer(Layer::new("b").whiteout("bin/busybox")),
    );
    assert_eq!(r.totals.stored_bytes, 1000);
    assert_eq!(r.totals.content_bytes, 1000);
    assert_eq!(r.totals.wasted_bytes, 0);
    assert_eq!(r.totals.files, 2);
    // Deleting every name makes the content waste, once.
    let r = report(
        &Image::new("t")
            .layer(
                Layer::new("a")
                    .fill("bin/busybox", 1000)
                    .hardlink("bin/sh", "bin/busybox"),
            )
            .layer(Layer::new("b").whiteout("bin")),
    );
    assert_eq!(r.totals.wasted_bytes, 1000);
    assert_eq!(waste(&r).len(), 1);
}

fn dot_slash_and_plain_names_are_one_path() {
    let r = report(
        &Image::new("t")
            .layer(Layer::new("a").fill("./etc/x", 9))
            .layer(Layer::new("b").fill("etc/x", 4)),
    );
    assert_eq!(r.totals.content_bytes, 4);
    assert_eq!(r.totals.wasted_bytes, 9);
    assert_eq!(r.totals.files, 1);
}

fn file_replacing_a_directory_hides_the_subtree_and_back() {
    let r = report(
        &Image::new("t")
            .layer(
                Layer::new("a")
                    .fill("opt/tool/bin", 50)
                    .fill("opt/tool/lib", 25),
            )
            .layer(Layer::new("b").fill("opt/tool", 3))
            .layer(Layer::new("c").fill("opt/tool/new", 1)),
    );
    assert_eq!(r.totals.stored_bytes, 79);
    assert_eq!(r.totals.content_bytes, 1);
    assert_eq!(r.totals.wasted_bytes, 78);
}

fn the_last_entry_of_a_layer_wins() {
    let r = report(&Image::new("t").layer(Layer::new("a").fill("x", 10).fill("x", 6)));
    assert_eq!(r.totals.stored_bytes, 16);
    assert_eq!(r.totals.content_bytes, 6);
    assert_eq!(
        waste(&r),
        vec![("/x".into(), 10, 0, 0, WasteCause::Overwritten)]
    );
}

fn symlinks_are_never_followed() {
    // /lib -> usr/lib in the base; a later layer's lib/ directory replaces the link
    // instead of writing through it.
    let r = report(
        &Image::new("t")
            .layer(
                Layer::new("a")
                    .fill("usr/lib/libc.so", 100)
                    .symlink("lib", "usr/lib"),
            )
            .layer(Layer::new("b").fill("lib/extra.so", 5)),
    );
    assert_eq!(r.totals.content_bytes, 105);
    assert_eq!(path_bytes(&r, "/usr/lib/libc.so"), Some(100));
    assert_eq!(path_bytes(&r, "/lib/extra.so"), Some(5));
    assert_eq!(r.totals.symlinks, 0);
}

fn every_container_format_gives_the_same_figures() {
    let img = Image::new("t:1")
        .layer(
            Layer::new("a")
                .fill("usr/bin/python3", 4000)
                .fill("etc/conf", 100),
        )
        .layer(
            Layer::new("b")
                .fill("etc/conf", 120)
                .whiteout("usr/bin/python3")
                .gzip(),
        )
        .layer(Layer::new("c").fill("app/x", 33).zstd());
    let dir = tmp();
    let docker = dir.path().join("d.tar");
    let layout = dir.path().join("layout");
    let archive = dir.path().join("o.tar");
    docker_archive(&img, &docker).expect("docker");
    oci_layout(&img, &layout).expect("layout");
    oci_archive(&img, &archive).expect("archive");
    let gz = dir.path().join("d.tar.gz");
    let raw = std::fs::read(&docker).expect("read");
    std::fs::write(&gz, crate::util::gzip(&raw)).expect("write");
    let reports: Vec<Report> = [&docker, &layout, &archive, &gz]
        .iter()
        .map(|p| analyze(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .collect();
    for r in &reports {
        assert!(r.complete, "{:?}", r.problems);
        assert_eq!(r.totals.stored_bytes, 4253);
        assert_eq!(r.totals.content_bytes, 153);
        assert_eq!(r.totals.wasted_bytes, 4100);
        assert_eq!(
            r.totals.uncompressed_bytes,
            reports[0].totals.uncompressed_bytes
        );
        assert_eq!(r.layers.len(), 3);
    }
    assert_eq!(reports[1].image.format, "oci-layout");
    assert_eq!(reports[2].image.format, "oci-archive");
    assert_eq!(reports[3].image.outer_compression.as_deref(), Some("gzip"));
    assert_eq!(
        reports[1].layers[1].compression.map(|c| c.name()),
        Some("gzip")
    );
    assert_eq!(
        reports[1].layers[2].compression.map(|c| c.name()),
        Some("zstd")
    );
}

fn history_that_does_not_line_up_is_not_guessed() {
    let mut img = Image::new("t")
        .layer(Layer::new("a").fill("x", 1))
        .layer(Layer::new("b").fill("y", 1));
    img.layers[1].created_by = "b".into();
    // Drop the history: attribution must be absent, and said so.
    img.with_history = false;
    let r = report(&img);
    assert!(r.history_note.is_some());
    assert!(r.layers.iter().all(|l| l.created_by.is_none()));
}

/// Analyses can ask the walk to keep small files (package databases); the walk hands
/// them over with their layer, in layer order, without a second pass.
fn the_walk_captures_what_an_analysis_asks_for() {
    struct DpkgStatus;
    impl imgsize::walk::Capture for DpkgStatus {
        fn wants(&self, path: &[u8], size: u64) -> bool {
            path == b"var/lib/dpkg/status" && size < 1 << 20
        }
    }
    let dir = tmp();
    let path = dir.path().join("image.tar");
    let img = Image::new("t")
        .layer(
            Layer::new("a")
                .file("var/lib/dpkg/status", b"Package: libc6\n")
                .fill("x", 9),
        )
        .layer(
            Layer::new("b")
                .file("./var/lib/dpkg/status", b"Package: libc6\nPackage: gcc\n")
                .gzip(),
        );
    docker_archive(&img, &path).expect("fixture");
    // The same whether the archive is read in place or in one pass (compressed whole).
    let gz = dir.path().join("image.tar.gz");
    std::fs::write(&gz, gzip(&std::fs::read(&path).expect("read"))).expect("write");
    let hooks = imgsize::Hooks {
        capture: Some(&DpkgStatus),
        ..imgsize::Hooks::default()
    };
    for input in [&path, &gz] {
        let a = imgsize::pipeline::analysis(
            &input.to_string_lossy(),
            &imgsize::Options::default(),
            &hooks,
        )
        .expect("walk");
        let got: Vec<(usize, &[u8], &[u8])> = a
            .captured
            .iter()
            .map(|c| (c.layer, c.path.as_slice(), c.content.as_slice()))
            .collect();
        assert_eq!(
            got,
            vec![
                (0, &b"var/lib/dpkg/status"[..], &b"Package: libc6\n"[..]),
                (
                    1,
                    &b"var/lib/dpkg/status"[..],
                    &b"Package: libc6\nPackage: gcc\n"[..]
                ),
            ],
            "{}",
            input.display()
        );
        // Capturing does not change the figures.
        assert_eq!(a.figures[0].added_bytes, 15 + 9);
    }
}

crate::tests![
    sizes_of_a_plain_two_layer_image,
    overwritten_file_is_waste_of_the_lower_layer,
    whiteout_of_a_directory_wastes_its_whole_subtree,
    whiteouts_do_not_touch_their_own_layer,
    opaque_dir_hides_lower_content_wherever_the_marker_sits,
    hardlinks_count_once_and_survive_deleting_the_first_name,
    dot_slash_and_plain_names_are_one_path,
    file_replacing_a_directory_hides_the_subtree_and_back,
    the_last_entry_of_a_layer_wins,
    symlinks_are_never_followed,
    every_container_format_gives_the_same_figures,
    history_that_does_not_line_up_is_not_guessed,
    the_walk_captures_what_an_analysis_asks_for,
];
