//! The layer rules of `server/src`, checked by reading the source: SeaORM only in the store,
//! the admin layer on top of it and reached only from `app`, the store below everything that
//! uses it, the protocol free of the web, token minting free of the protocol and the HTTP state,
//! and no import cycle between top-level modules. Pure file scanning: no server, no database.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Files outside `store/` that still name SeaORM or the entity crate, each to be moved behind
/// a repository function. The list may only shrink: the test fails when a file listed here
/// no longer needs to be (delete its line then) and when one not listed starts to.
const STILL_TO_MOVE: &[&str] = &[];

/// Modules built on the store: it must not import them (that would be a cycle, or the store
/// knowing its callers).
const ABOVE_THE_STORE: &[&str] = &[
    "accounts",
    "admin",
    "app",
    "changes",
    "directory",
    "health",
    "metrics",
    "oauth",
    "planb",
    "revocation",
    "seeding",
    "startup",
    "telemetry",
    "tokens",
    "web",
];

/// Imports from the store to a module that itself uses the store: cycles still to break. The
/// list may only shrink, like `STILL_TO_MOVE`.
const CYCLES_STILL_TO_BREAK: &[(&str, &str)] = &[];

/// Every `.rs` file under `server/src`, by path relative to it (with `/` separators).
fn sources() -> BTreeMap<String, String> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, String>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
            .map(|entry| entry.expect("directory entry").path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let relative = path
                    .strip_prefix(root)
                    .expect("under the root")
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                let text = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
                out.insert(relative, text);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeMap::new();
    walk(&root, &root, &mut out);
    assert!(
        out.len() > 50 && out.contains_key("store/mod.rs"),
        "found too few sources under {}",
        root.display()
    );
    out
}

/// Whether `text` holds `word` not preceded by an identifier character (so `identity::` is
/// not `entity::`).
fn mentions(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(at, _)| {
        !text[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

fn names_sea_orm(text: &str) -> bool {
    mentions(text, "sea_orm") || mentions(text, "entity::")
}

/// The top-level module a source file belongs to: `store/users.rs` → `store`, `app.rs` → `app`.
fn module_of(path: &str) -> &str {
    let first = path.split('/').next().unwrap_or(path);
    first.strip_suffix(".rs").unwrap_or(first)
}

/// The top-level modules `text` imports through `crate::`, including grouped imports
/// (`use crate::{a, b::c}`).
fn crate_imports(text: &str) -> BTreeSet<String> {
    let ident = |s: &str| {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect::<String>()
    };
    let mut found = BTreeSet::new();
    for (at, m) in text.match_indices("crate::") {
        let rest = &text[at + m.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = group.split('}').next().unwrap_or_default();
            found.extend(inner.split(',').map(ident));
        } else {
            found.insert(ident(rest));
        }
    }
    found.retain(|name| !name.is_empty() && name != "self");
    found
}

/// Which top-level modules each top-level module imports (itself left out).
fn module_graph(sources: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, text) in sources {
        let module = module_of(path).to_string();
        let imports = crate_imports(text);
        let entry = graph.entry(module.clone()).or_default();
        entry.extend(imports.into_iter().filter(|m| *m != module));
    }
    graph
}

/// The modules `from` reaches through imports (itself only through a cycle).
fn reachable(graph: &BTreeMap<String, BTreeSet<String>>, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<&str> = graph
        .get(from)
        .map(|n| n.iter().map(String::as_str).collect())
        .unwrap_or_default();
    while let Some(next) = todo.pop() {
        if seen.insert(next.to_string()) {
            if let Some(more) = graph.get(next) {
                todo.extend(more.iter().map(String::as_str));
            }
        }
    }
    seen
}

#[test]
fn sea_orm_only_in_the_store() {
    let sources = sources();
    let offenders: BTreeSet<&str> = sources
        .iter()
        .filter(|(path, _)| !path.starts_with("store/"))
        .filter(|(_, text)| names_sea_orm(text))
        .map(|(path, _)| path.as_str())
        .collect();
    let allowed: BTreeSet<&str> = STILL_TO_MOVE.iter().copied().collect();
    let new: Vec<_> = offenders.difference(&allowed).collect();
    assert!(
        new.is_empty(),
        "SeaORM (`sea_orm`, `entity::`) outside `store/` in {new:?}: add a repository \
         function in `store/` and call it"
    );
    let moved: Vec<_> = allowed.difference(&offenders).collect();
    assert!(
        moved.is_empty(),
        "{moved:?} no longer name SeaORM: delete them from STILL_TO_MOVE"
    );
    for path in STILL_TO_MOVE {
        assert!(
            sources.contains_key(*path),
            "STILL_TO_MOVE names `{path}`, which does not exist"
        );
    }
}

#[test]
fn the_admin_layer_goes_through_the_store() {
    let sources = sources();
    let admin: Vec<_> = sources
        .iter()
        .filter(|(path, _)| path.starts_with("admin/"))
        .collect();
    assert!(admin.len() >= 10, "admin sources not found");
    for (path, text) in &admin {
        assert!(
            !names_sea_orm(text),
            "`{path}` names SeaORM; the admin service calls `store::` functions"
        );
    }
    assert!(
        !STILL_TO_MOVE.iter().any(|p| p.starts_with("admin/")),
        "the admin layer has no exceptions"
    );
    // The REST handlers only extract, call the service and answer.
    for (path, text) in admin.iter().filter(|(p, _)| p.starts_with("admin/api/")) {
        assert!(
            !crate_imports(text).contains("store"),
            "`{path}` reaches into the store; handlers call the admin service"
        );
        assert!(
            !text.contains("k[0]") && !text.contains("Keys("),
            "`{path}` reads path keys by position; use a named struct of `admin/api/paths.rs`"
        );
    }
}

#[test]
fn only_app_wires_the_admin_layer() {
    for (path, text) in sources() {
        let module = module_of(&path);
        if module == "admin" || module == "app" {
            continue;
        }
        assert!(
            !crate_imports(&text).contains("admin"),
            "`{path}` imports the admin layer; only `app` mounts it"
        );
    }
}

#[test]
fn the_store_imports_no_module_above_it() {
    let sources = sources();
    let mut used_by: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, text) in &sources {
        for import in crate_imports(text) {
            used_by
                .entry(import)
                .or_default()
                .insert(module_of(path).to_string());
        }
    }
    let users_of_store = used_by.get("store").cloned().unwrap_or_default();
    let mut cycles = BTreeSet::new();
    for (path, text) in sources.iter().filter(|(p, _)| p.starts_with("store/")) {
        for import in crate_imports(text) {
            assert!(
                !ABOVE_THE_STORE.contains(&import.as_str()),
                "`{path}` imports `crate::{import}`, a module built on the store"
            );
            if import != "store" && users_of_store.contains(&import) {
                cycles.insert(("store", import));
            }
        }
    }
    let allowed: BTreeSet<(&str, String)> = CYCLES_STILL_TO_BREAK
        .iter()
        .map(|(from, to)| (*from, to.to_string()))
        .collect();
    let new: Vec<_> = cycles.difference(&allowed).collect();
    assert!(
        new.is_empty(),
        "new dependency cycles through the store: {new:?}"
    );
    let broken: Vec<_> = allowed.difference(&cycles).collect();
    assert!(
        broken.is_empty(),
        "{broken:?} are no longer cycles: delete them from CYCLES_STILL_TO_BREAK"
    );
}

#[test]
fn no_module_imports_itself_through_others() {
    let graph = module_graph(&sources());
    assert!(graph.len() > 20, "modules not found");
    let cycles: Vec<(String, Vec<String>)> = graph
        .keys()
        .filter(|module| reachable(&graph, module).contains(*module))
        .map(|module| {
            let partners = graph[module]
                .iter()
                .filter(|next| reachable(&graph, next).contains(module))
                .cloned()
                .collect();
            (module.clone(), partners)
        })
        .collect();
    assert!(
        cycles.is_empty(),
        "import cycles between top-level modules (module, the imports that lead back to it): \
         {cycles:?}; move the shared vocabulary to the module that owns it"
    );
}

/// `(module, modules it must not import, why)`.
const LAYER_RULES: &[(&str, &[&str], &str)] = &[
    (
        "oauth",
        &["web", "admin", "app"],
        "the protocol decides in plain types; `web` renders its decisions",
    ),
    (
        "tokens",
        &["oauth", "web", "admin", "app", "state", "planb"],
        "minting and verifying tokens takes the parts it uses (keys, stores, clock), not the \
         HTTP state or the protocol's errors",
    ),
    (
        "store",
        &["state", "app", "web", "oauth", "tokens", "keys", "config"],
        "the store knows only the domain",
    ),
    (
        "state",
        &["oauth", "web", "admin", "app", "planb", "health"],
        "the shared state is composed from services below the endpoints",
    ),
    (
        "web",
        &["admin", "app", "planb"],
        "the pages sit beside the protocol, under the router",
    ),
];

#[test]
fn layers_import_only_downwards() {
    let graph = module_graph(&sources());
    for (module, forbidden, why) in LAYER_RULES {
        let imports = graph
            .get(*module)
            .unwrap_or_else(|| panic!("module `{module}` not found"));
        for bad in *forbidden {
            assert!(!imports.contains(*bad), "`{module}` imports `{bad}`: {why}");
        }
    }
}

#[test]
fn app_only_composes_the_router() {
    let sources = sources();
    let app = sources.get("app.rs").expect("app.rs");
    let public: Vec<&str> = app
        .lines()
        .map(str::trim_start)
        .filter(|line| line.starts_with("pub "))
        .collect();
    assert_eq!(
        public,
        ["pub fn router(state: AppState) -> Router {"],
        "app.rs only builds the router; shared state lives in `state`"
    );
}

#[test]
fn the_scanner_sees_what_it_looks_for() {
    assert!(names_sea_orm("use sea_orm::Set;"));
    assert!(names_sea_orm("use entity::{client, user};"));
    assert!(!names_sea_orm("crate::domain::identity::Subject"));
    assert_eq!(module_of("store/users.rs"), "store");
    assert_eq!(module_of("app.rs"), "app");
    let imports = crate_imports(
        "use crate::store::{self, Conn};\nlet x = crate::admin::api;\nuse crate::{oauth, web::html};",
    );
    assert_eq!(
        imports,
        ["admin", "oauth", "store", "web"]
            .map(String::from)
            .into_iter()
            .collect()
    );
    let graph: BTreeMap<String, BTreeSet<String>> = [("a", "b"), ("b", "c"), ("c", "a")]
        .into_iter()
        .map(|(from, to)| (from.to_string(), BTreeSet::from([to.to_string()])))
        .collect();
    assert!(reachable(&graph, "a").contains("a"), "a cycle is seen");
}
