//! The rules' ids and scopes, and their fixed words: titles, confidence, cache fixes.

use crate::analyze::categories::Category;

/// A rule's stable id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// A package manager's cache left in the layer (the category names which).
    Cache(Category),
    /// VCS folders and host bytecode copied in by COPY/ADD.
    Dockerignore,
    /// Files created in a layer and deleted by a later one.
    DeletedLater,
    /// Files re-added unchanged but for mode or owner (`RUN chmod -R`).
    ChmodDuplicate,
    /// Build-only packages, what only they pulled in, and the build layers' caches and
    /// hidden bytes.
    MultiStage,
    /// Docs, man pages and locales dpkg installed in your layers (rpm: `%doc` files).
    DocsLocales,
    /// Test suites inside installed packages.
    PackageTests,
    /// Python bytecode pip compiled at install time.
    Bytecode,
    /// A base image with compilers and development files (base scope).
    FullBase,
    /// npm packages a production install leaves out: devDependencies, what only they
    /// pull in, extraneous packages.
    DevDependencies,
    /// Build trees left beside the sources: Cargo's and Maven's `target/`, Gradle's
    /// `build/`, `node_modules/.cache`.
    BuildTree,
    /// A JDK installed where a JRE runs the application.
    JdkRuntime,
    /// The same content at different paths in your layers (hashed).
    DuplicateFiles,
    /// ELF binaries and libraries shipped with symbol tables or debug info: `strip`
    /// shrinks them (the one edit that is not a drop).
    Unstripped,
}

/// Who can apply a fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Your Dockerfile's RUN/COPY lines.
    Yours,
    /// Only a different base image (or a multi-stage build off it).
    Base,
}

impl Scope {
    pub fn code(self) -> &'static str {
        match self {
            Scope::Yours => "yours",
            Scope::Base => "base",
        }
    }
}

impl Rule {
    /// Every rule id, for docs and schema checks.
    pub fn all() -> Vec<Rule> {
        let mut out: Vec<Rule> = Category::ALL
            .iter()
            .filter(|c| c.is_cache())
            .map(|&c| Rule::Cache(c))
            .collect();
        out.extend([
            Rule::Dockerignore,
            Rule::DeletedLater,
            Rule::ChmodDuplicate,
            Rule::MultiStage,
            Rule::DocsLocales,
            Rule::PackageTests,
            Rule::Bytecode,
            Rule::FullBase,
            Rule::DevDependencies,
            Rule::BuildTree,
            Rule::JdkRuntime,
            Rule::DuplicateFiles,
            Rule::Unstripped,
        ]);
        out
    }

    pub fn code(self) -> &'static str {
        match self {
            Rule::Cache(c) => c.code(),
            Rule::Dockerignore => "dockerignore",
            Rule::DeletedLater => "deleted-later",
            Rule::ChmodDuplicate => "chmod-duplicate",
            Rule::MultiStage => "multi-stage",
            Rule::DocsLocales => "docs-locales",
            Rule::PackageTests => "package-tests",
            Rule::Bytecode => "bytecode",
            Rule::FullBase => "full-base",
            Rule::DevDependencies => "dev-dependencies",
            Rule::BuildTree => "build-tree",
            Rule::JdkRuntime => "jdk-runtime",
            Rule::DuplicateFiles => "duplicate-files",
            Rule::Unstripped => "unstripped",
        }
    }

    pub fn title(self, scope: Scope) -> &'static str {
        match (self, scope) {
            (Rule::Cache(_), Scope::Base) => "the base image ships a package-manager cache",
            (Rule::Cache(Category::PipCache), _) => "pip cache left in the layer",
            (Rule::Cache(Category::AptLists), _) => "apt package lists left in the layer",
            (Rule::Cache(Category::AptArchives), _) => {
                "apt's downloaded packages and caches left in the layer"
            }
            (Rule::Cache(Category::ApkCache), _) => "apk cache left in the layer",
            (Rule::Cache(_), _) => "package-manager cache left in the layer",
            (Rule::Dockerignore, _) => "version-control folders and host bytecode copied in",
            (Rule::DeletedLater, _) => "files deleted by a later layer still ship in this one",
            (Rule::ChmodDuplicate, _) => "files re-added unchanged but for mode or owner",
            (Rule::MultiStage, _) => "the build toolchain ships in the final image",
            (Rule::DocsLocales, _) => {
                "docs, man pages and locales installed by the package manager"
            }
            (Rule::PackageTests, _) => "test suites inside installed packages",
            (Rule::Bytecode, _) => "Python bytecode pip compiled at install time",
            (Rule::FullBase, _) => "a full base image with compilers and development files",
            (Rule::DevDependencies, _) => "npm devDependencies installed in the image",
            (Rule::BuildTree, _) => "build output folders left beside the sources",
            (Rule::JdkRuntime, _) => "a full JDK installed where a JRE runs the application",
            (Rule::DuplicateFiles, _) => "the same content at several paths",
            (Rule::Unstripped, _) => "binaries and libraries with symbols or debug info",
        }
    }

    pub(super) fn confidence(self, scope: Scope) -> &'static str {
        match (self, scope) {
            (Rule::Cache(_), Scope::Base) => "medium",
            (Rule::Cache(_) | Rule::Dockerignore | Rule::DeletedLater, _) => "high",
            (Rule::DevDependencies | Rule::BuildTree, _) => "high",
            (Rule::JdkRuntime, _) => "medium",
            (Rule::ChmodDuplicate, _) => "high",
            (Rule::MultiStage | Rule::DocsLocales | Rule::PackageTests, _) => "medium",
            (Rule::Bytecode | Rule::FullBase, _) => "low",
            (Rule::DuplicateFiles, _) => "high",
            (Rule::Unstripped, _) => "medium",
        }
    }

    pub(super) fn cache_fix(category: Category) -> &'static str {
        match category {
            Category::PipCache => {
                "set `ENV PIP_NO_CACHE_DIR=1` before this RUN, or end it with `&& rm -rf /root/.cache/pip` (`pip install --no-cache-dir` does not reach build-isolation installs)"
            }
            Category::AptLists => "end this RUN with `&& rm -rf /var/lib/apt/lists/*`",
            Category::AptArchives => "end this RUN with `&& apt-get clean`",
            Category::ApkCache => "use `apk add --no-cache` in this RUN",
            Category::NpmCache => "end this RUN with `&& npm cache clean --force`",
            Category::YarnCache => "end this RUN with `&& yarn cache clean`",
            Category::PnpmStore => {
                "end this RUN with `&& pnpm store prune`, or keep the store in a cache mount"
            }
            Category::ComposerCache => "use `composer install --no-cache` in this RUN",
            Category::GoCache => {
                "end the RUN that builds with `&& go clean -cache` (the build cache; `go clean -modcache` for downloaded modules), or build in a separate stage"
            }
            Category::CargoCache => {
                "end the RUN that builds with `&& rm -rf $CARGO_HOME/registry $CARGO_HOME/git` (`/root/.cargo/…` by default), or build in a separate stage"
            }
            Category::DnfCache => {
                "end this RUN with `&& dnf clean all` (dnf keeps only metadata by default; `--setopt=keepcache=0` keeps downloaded packages out too)"
            }
            Category::YumCache => "end this RUN with `&& yum clean all && rm -rf /var/cache/yum`",
            Category::ZyppCache => "end this RUN with `&& zypper clean --all`",
            Category::MicrodnfCache => "end this RUN with `&& microdnf clean all`",
            Category::GemCache => {
                "remove the gem cache in this RUN (`gem install --no-document`, `rm -rf` the cache folder)"
            }
            _ => {
                "build in a separate stage and copy only the artifacts, or keep the cache in `RUN --mount=type=cache`"
            }
        }
    }
}

/// The `docs-locales` fix for rpm's `%doc` files, for the tool the RUN line uses.
pub(super) fn rpm_nodocs_fix(instruction: &str) -> String {
    if instruction.contains("zypper") {
        return "before `zypper install` in this RUN, set `rpm.install.excludedocs = yes` in /etc/zypp/zypp.conf (`sed -i 's/^# *rpm.install.excludedocs.*/rpm.install.excludedocs = yes/' /etc/zypp/zypp.conf`), or pass `--no-recommends` and `--excludedocs` to `rpm`".into();
    }
    let tool = ["microdnf", "dnf", "yum"]
        .into_iter()
        .find(|t| instruction.contains(t))
        .unwrap_or("dnf");
    format!(
        "add `--setopt=tsflags=nodocs` to `{tool} install` in this RUN (or `tsflags=nodocs` in the `[main]` section of /etc/dnf/dnf.conf, /etc/yum.conf for yum)"
    )
}

/// The dpkg filter the `docs-locales` fix installs, and what it keeps.
pub const DPKG_EXCLUDES: &str = "path-exclude=/usr/share/doc/*\\npath-include=/usr/share/doc/*/copyright\\npath-exclude=/usr/share/man/*\\npath-exclude=/usr/share/info/*\\npath-exclude=/usr/share/locale/*\\npath-include=/usr/share/locale/locale.alias\\n";
