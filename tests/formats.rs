//! Every input format and layer encoding of the issue, written by the fixture builder,
//! with figures known by construction.

use imgsize::bytes::VerifyPolicy;
use imgsize::source::{PlatformSpec, SelectOptions};

use crate::util::builder::{
    Comp, DockerStyle, Image, IndexEntry, Layer, docker_archive, docker_archive_multi,
    oci_index_layout, oci_layout, write_tar,
};
use crate::util::{analyze, analyze_with, tmp};

fn base() -> Layer {
    Layer::new("ADD rootfs /")
        .fill("usr/bin/python3.12", 6000)
        .fill("etc/passwd", 300)
}

fn app() -> Layer {
    Layer::new("COPY . /app")
        .fill("app/main.py", 700)
        .fill("etc/passwd", 320)
}

fn pick(image: Option<&str>, platform: Option<&str>) -> SelectOptions {
    SelectOptions {
        image: image.map(str::to_string),
        platform: platform.map(|p| PlatformSpec::parse(p).expect("platform")),
        verify: VerifyPolicy::All,
        ..SelectOptions::default()
    }
}

fn multi_member_gzip_and_estargz_layers() {
    for comp in [Comp::GzipMulti, Comp::Estargz] {
        let layer = base().comp(comp);
        let mut plain = Vec::new();
        write_tar(&layer, &mut plain).expect("tar");
        let dir = tmp();
        let path = dir.path().join("layout");
        oci_layout(&Image::new("t").layer(layer), &path).expect("fixture");
        let r = analyze(&path).unwrap_or_else(|e| panic!("{comp:?}: {e}"));
        assert!(r.complete, "{comp:?}: {:?}", r.problems);
        let l = &r.layers[0];
        assert_eq!(l.added_bytes, 6300, "{comp:?}");
        assert_eq!(
            l.files, 2,
            "{comp:?}: the TOC after the end marker is not a file"
        );
        if comp == Comp::Estargz {
            // The diff_id covers the TOC too: the stream is longer than the tar.
            assert!(l.uncompressed_bytes > plain.len() as u64);
        } else {
            assert_eq!(l.uncompressed_bytes, plain.len() as u64);
        }
    }
}

fn docker_25_archives_and_jib_lowercase_keys_read_like_classic_ones() {
    let img = Image::new("svc:1").layer(base()).layer(app().gzip());
    let dir = tmp();
    let classic = dir.path().join("classic.tar");
    docker_archive(&img, &classic).expect("classic");
    let want = analyze(&classic).expect("classic");
    for style in [
        DockerStyle {
            docker25: true,
            ..Default::default()
        },
        DockerStyle {
            lowercase_keys: true,
            ..Default::default()
        },
    ] {
        let path = dir.path().join("styled.tar");
        docker_archive_multi(std::slice::from_ref(&img), &path, style).expect("fixture");
        let r = analyze(&path).unwrap_or_else(|e| panic!("{style:?}: {e}"));
        assert!(r.complete, "{style:?}: {:?}", r.problems);
        assert_eq!(r.image.format, "docker-archive");
        assert_eq!(r.image.reference.as_deref(), Some("svc:1"));
        assert_eq!(r.totals, want.totals, "{style:?}");
        assert_eq!(r.totals.stored_bytes, 7320);
        assert_eq!(r.totals.wasted_bytes, 300);
    }
}

fn several_images_sharing_a_layer_through_a_symlink() {
    let one = Image::new("app:one").layer(base()).layer(app());
    let two = Image::new("app:two")
        .layer(base())
        .layer(Layer::new("RUN make").fill("opt/tool", 4000));
    let dir = tmp();
    let path = dir.path().join("bundle.tar");
    let style = DockerStyle {
        share_by_symlink: true,
        ..Default::default()
    };
    docker_archive_multi(&[one, two], &path, style).expect("fixture");
    // Default: the first image, naming the other.
    let r = analyze(&path).expect("default");
    assert_eq!(r.image.reference.as_deref(), Some("app:one"));
    assert_eq!(r.image.other_images, vec!["app:two"]);
    assert_eq!(r.totals.content_bytes, 6000 + 700 + 320);
    // The second image reads its base layer through the symlink.
    let r = analyze_with(&path, &pick(Some("app:two"), None), Default::default()).expect("two");
    assert!(r.complete, "{:?}", r.problems);
    assert_eq!(r.image.reference.as_deref(), Some("app:two"));
    assert_eq!(r.totals.stored_bytes, 6300 + 4000);
    assert_eq!(r.layers[0].added_bytes, 6300);
    let unknown = analyze_with(&path, &pick(Some("app:three"), None), Default::default())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        unknown.contains("app:one") && unknown.contains("app:two"),
        "{unknown}"
    );
}

fn nested_multi_platform_index_with_a_missing_platform() {
    let amd = Image::new("multi").layer(base()).layer(app());
    let arm = Image::new("multi")
        .platform("linux", "arm64")
        .layer(Layer::new("ADD rootfs /").fill("usr/bin/python3.12", 5000));
    let s390 = Image::new("multi")
        .platform("linux", "s390x")
        .layer(Layer::new("ADD rootfs /").fill("usr/bin/python3.12", 7777));
    let dir = tmp();
    let path = dir.path().join("layout");
    oci_index_layout(
        &[
            IndexEntry {
                name: Some("v1".into()),
                images: vec![arm.clone(), amd.clone(), s390],
                nested: true,
                missing: vec!["linux/s390x".into()],
            },
            IndexEntry {
                name: Some("arm-only".into()),
                images: vec![arm],
                nested: false,
                missing: vec![],
            },
        ],
        &path,
    )
    .expect("fixture");
    let host_is_amd64 = PlatformSpec::host().architecture == "amd64";
    if host_is_amd64 {
        let r = analyze(&path).expect("default platform");
        assert_eq!(r.image.reference.as_deref(), Some("v1"));
        assert_eq!(r.image.platform.architecture.as_deref(), Some("amd64"));
        assert_eq!(r.totals.stored_bytes, 7320);
        assert_eq!(r.image.other_images, vec!["arm-only"]);
    }
    let r =
        analyze_with(&path, &pick(None, Some("linux/arm64")), Default::default()).expect("arm64");
    assert_eq!(r.image.platform.architecture.as_deref(), Some("arm64"));
    assert_eq!(r.totals.stored_bytes, 5000);
    // A single-image entry is that image whatever the host.
    let r =
        analyze_with(&path, &pick(Some("arm-only"), None), Default::default()).expect("arm-only");
    assert_eq!(r.totals.stored_bytes, 5000);
    // The platform whose blobs were not pulled is a clear error, not another image.
    let err = analyze_with(
        &path,
        &pick(Some("v1"), Some("linux/s390x")),
        Default::default(),
    )
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(err.contains("is missing"), "{err}");
    let err = analyze_with(
        &path,
        &pick(None, Some("linux/ppc64le")),
        Default::default(),
    )
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(
        err.contains("linux/ppc64le") && err.contains("linux/amd64") && err.contains("linux/arm64"),
        "{err}"
    );
}

crate::tests![
    multi_member_gzip_and_estargz_layers,
    docker_25_archives_and_jib_lowercase_keys_read_like_classic_ones,
    several_images_sharing_a_layer_through_a_symlink,
    nested_multi_platform_index_with_a_missing_platform,
];
