//! The house's layering, kept by a test in the spirit of rust-analyzer's tidy tests: it reads
//! every file under `src/`, collects the crate paths each one names (`crate::x::y`, `super::x`
//! resolved, `use crate::{a, b::c}` groups expanded; comments skipped), and fails on any path a
//! rule forbids, naming the file, the path and the rule. A second check keeps the operation names
//! in one Rust file, the catalogue (`src/ops.rs`), outside unit tests. See ARCHITECTURE.md.

use std::path::{Path, PathBuf};

/// A layering rule: modules under any of `from` never name a path under any of `forbidden`
/// (`"*"`: anything in the crate).
struct Rule {
    name: &'static str,
    from: &'static [&'static str],
    forbidden: &'static [&'static str],
}

const CORE: &[&str] = &["clock", "instant", "world", "scenario", "ops"];

const RULES: &[Rule] = &[
    Rule {
        name: "the core (clock, instant, world, scenario, ops) imports nothing from the edges, the control API, the server or the request-path state",
        from: CORE,
        forbidden: &["cloud", "control", "auth", "render", "server", "faults", "journal", "state", "client"],
    },
    Rule { name: "the operation catalogue (ops) depends on nothing in the crate", from: &["ops"], forbidden: &["*"] },
    Rule { name: "the Alibaba edge never imports the Huawei edge", from: &["cloud::aliyun"], forbidden: &["cloud::huawei"] },
    Rule { name: "the Huawei edge never imports the Alibaba edge", from: &["cloud::huawei"], forbidden: &["cloud::aliyun"] },
    Rule {
        name: "the control API is the /_emu/ API over the state: nothing on the request path imports it (the server only hands it /_emu/ requests)",
        from: &["cloud", "auth", "render", "faults", "journal", "state"],
        forbidden: &["control"],
    },
    Rule {
        name: "only the library root reaches the server: nothing it serves imports it",
        from: &["cloud", "control", "auth", "render", "faults", "journal", "state", "client", "clock", "instant", "world", "scenario", "ops"],
        forbidden: &["server"],
    },
    Rule {
        name: "the server builds no cloud's answer: each edge words its own refusals",
        from: &["server"],
        forbidden: &["cloud::aliyun", "cloud::huawei"],
    },
    Rule {
        name: "URL and form decoding live with the edges (cloud::pairs), not in auth",
        from: &["cloud", "control", "client", "journal", "faults", "state", "server"],
        forbidden: &["auth::pct", "auth::form_decode", "auth::form_body", "auth::unescape", "auth::unescape_into"],
    },
    Rule {
        name: "import derives from the core (world, scenario), never from an edge's rendering or the running state",
        from: &["import"],
        forbidden: &["cloud", "control", "auth", "render", "server", "faults", "journal", "state", "client"],
    },
    Rule {
        name: "signature checks know requests, not the edges that route them",
        from: &["auth"],
        forbidden: &["cloud::aliyun", "cloud::huawei", "control", "state", "journal", "faults"],
    },
];

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).expect("src/ is readable").map(|e| e.expect("a directory entry").path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `cloud/aliyun/mod.rs` → `["cloud", "aliyun"]`; `lib.rs` → `[]`.
fn module_of(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let file = parts.pop().unwrap_or_default();
    match file.trim_end_matches(".rs") {
        "mod" | "lib" | "main" => {}
        name => parts.push(name.to_string()),
    }
    parts
}

/// The text without comments (`//` to the end of the line): doc links are not imports.
fn code_of(text: &str) -> String {
    text.lines().map(|line| line.find("//").map_or(line, |i| &line[..i])).collect::<Vec<_>>().join("\n")
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Every path after `crate::` or `super::`/`self::` chains, resolved against `module`, with
/// `{a, b::{c, d}}` groups expanded.
fn paths_named(code: &str, module: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    let bytes = code.as_bytes();
    let mut i = 0;
    while i < code.len() {
        let rest = &code[i..];
        let starts_word = i == 0 || !is_ident(bytes[i - 1] as char) && bytes[i - 1] != b':';
        let base: Option<(Vec<String>, usize)> = if starts_word && rest.starts_with("crate::") {
            Some((Vec::new(), "crate::".len()))
        } else if starts_word && (rest.starts_with("super::") || rest.starts_with("self::")) {
            let mut base = module.to_vec();
            let mut at = 0;
            loop {
                if code[i + at..].starts_with("super::") {
                    base.pop();
                    at += "super::".len();
                } else if code[i + at..].starts_with("self::") {
                    at += "self::".len();
                } else {
                    break;
                }
            }
            Some((base, at))
        } else {
            None
        };
        match base {
            Some((base, skip)) => {
                let (tree, used) = path_tree(&code[i + skip..]);
                for path in tree {
                    let mut full = base.clone();
                    full.extend(path);
                    found.push(full.join("::"));
                }
                i += skip + used.max(1);
            }
            None => i += rest.chars().next().map_or(1, char::len_utf8),
        }
    }
    found
}

/// The paths of one use-tree at the start of `text` (`a::b`, `a::{b, c::d}`, `{a, b}`) and how
/// many bytes it spans.
fn path_tree(text: &str) -> (Vec<Vec<String>>, usize) {
    let mut prefix: Vec<String> = Vec::new();
    let mut i = 0;
    loop {
        let ident: String = text[i..].chars().take_while(|c| is_ident(*c)).collect();
        if ident.is_empty() {
            if text[i..].starts_with('{') {
                let mut out = Vec::new();
                i += 1;
                loop {
                    let skipped = text[i..].len() - text[i..].trim_start().len();
                    i += skipped;
                    if text[i..].starts_with('}') || i >= text.len() {
                        return (out, i + 1);
                    }
                    let (inner, used) = path_tree(&text[i..]);
                    for path in inner {
                        let mut full = prefix.clone();
                        full.extend(path);
                        out.push(full);
                    }
                    i += used.max(1);
                    let skipped = text[i..].len() - text[i..].trim_start().len();
                    i += skipped;
                    if text[i..].starts_with(',') {
                        i += 1;
                    }
                }
            }
            return (vec![prefix], i);
        }
        i += ident.len();
        if ident != "self" {
            prefix.push(ident);
        }
        if text[i..].starts_with("::") {
            i += 2;
        } else {
            return (vec![prefix], i);
        }
    }
}

fn under(path: &str, prefix: &str) -> bool {
    prefix == "*" || path == prefix || path.starts_with(&format!("{prefix}::"))
}

/// Every broken rule in the crate, one line each.
fn violations() -> Vec<String> {
    let src = src_dir();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut broken = Vec::new();
    for file in files {
        let relative = file.strip_prefix(&src).expect("under src/");
        let module = module_of(relative);
        let name = module.join("::");
        let text = std::fs::read_to_string(&file).expect("a source file is text");
        for path in paths_named(&code_of(&text), &module) {
            // A module's own children are its own business.
            if path.is_empty() || under(&path, &name) && !name.is_empty() {
                continue;
            }
            for rule in RULES.iter().filter(|r| r.from.iter().any(|f| under(&name, f))) {
                if rule.forbidden.iter().any(|f| under(&path, f)) {
                    broken.push(format!("src/{}: crate::{path} breaks \"{}\"", relative.display(), rule.name));
                }
            }
        }
    }
    broken.sort();
    broken.dedup();
    broken
}

#[test]
fn every_module_keeps_to_its_layer() {
    let broken = violations();
    assert!(broken.is_empty(), "layering broken ({}):\n{}", broken.len(), broken.join("\n"));
}

#[test]
fn operation_names_are_spelt_only_in_the_catalogue() {
    let catalogue = std::fs::read_to_string(src_dir().join("ops.rs")).expect("src/ops.rs");
    // The names as the rows spell them: `name: "X"`.
    let names: Vec<String> = catalogue.split("name: \"").skip(1).filter_map(|rest| rest.split('"').next()).map(str::to_string).collect();
    assert!(names.len() >= 5, "the catalogue's rows were not found: {names:?}");
    let src = src_dir();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut spelt = Vec::new();
    for file in files.iter().filter(|f| !f.ends_with("ops.rs")) {
        let text = std::fs::read_to_string(file).expect("a source file is text");
        // Unit tests (the module at each file's end) may call operations by name.
        let code = code_of(text.split("#[cfg(test)]").next().unwrap_or_default());
        for name in &names {
            // In a string literal on its own or as a permission (`"ecs:DescribeTasks"`).
            if code.contains(&format!("\"{name}\"")) || code.contains(&format!(":{name}\"")) || code.contains(&format!(":{name}\\\"")) {
                spelt.push(format!("src/{}: {name}", file.strip_prefix(&src).expect("under src/").display()));
            }
        }
    }
    assert!(spelt.is_empty(), "operation names outside src/ops.rs (read them from the catalogue):\n{}", spelt.join("\n"));
}

#[test]
fn the_reader_finds_paths_in_groups_and_through_super() {
    let module = vec!["cloud".to_string(), "aliyun".to_string()];
    let code = "use crate::{auth::gate::Refusal, ops::{AlibabaOp, Paging}};\nuse super::super::control::x; let y = super::huawei::route(p);\nfn f() -> crate::world::Pins {}";
    let paths = paths_named(code, &module);
    for want in ["auth::gate::Refusal", "ops::AlibabaOp", "ops::Paging", "control::x", "cloud::huawei::route", "world::Pins"] {
        assert!(paths.iter().any(|p| p == want), "{want} not in {paths:?}");
    }
    assert_eq!(code_of("let a = 1; // crate::server::x"), "let a = 1; ");
    assert_eq!(module_of(Path::new("cloud/aliyun/mod.rs")), ["cloud", "aliyun"]);
    assert_eq!(module_of(Path::new("server/body.rs")), ["server", "body"]);
}
