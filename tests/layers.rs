//! The import order of src/: each layer imports only the layers before it, and the
//! post-processing steps do not import each other. A cheap stand-in for crate boundaries:
//! every `crate::` and `super::` path in a file of the library is resolved to the module file
//! it names and compared with the table below.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Path prefixes (inside src/) and their layer; the longest matching prefix wins.
const LAYERS: &[(&str, u8)] = &[
    ("dates.rs", 1),
    ("diagnostic.rs", 1),
    ("files.rs", 1),
    ("text.rs", 1),
    ("vocab.rs", 1),
    ("config/", 2),
    ("observation/", 3),
    ("probes/spec.rs", 4),
    ("probes/index.rs", 4),
    // probes/<family>/spec.rs: see layer_of
    ("catalog/", 5),
    ("probes/", 6),
    ("runner.rs", 6),
    ("evaluate.rs", 7),
    ("postprocess/", 8),
    ("report/", 9),
    ("render/", 10),
    ("demo.rs", 10),
    ("lib.rs", 11),
];

fn layer_of(rel: &str) -> Option<u8> {
    let parts: Vec<&str> = rel.split('/').collect();
    if parts.len() == 3 && parts[0] == "probes" && parts[2] == "spec.rs" {
        return Some(4);
    }
    LAYERS
        .iter()
        .filter(|(prefix, _)| rel == *prefix || (prefix.ends_with('/') && rel.starts_with(prefix)))
        .max_by_key(|(prefix, _)| prefix.len())
        .map(|(_, l)| *l)
}

/// Module path of a file: `probes/dns/srv.rs` -> [probes, dns, srv]; `x/mod.rs` -> [x].
fn module_of(rel: &str) -> Vec<String> {
    let mut parts: Vec<String> = rel.split('/').map(str::to_string).collect();
    let last = parts.pop().unwrap_or_default();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_string());
    }
    parts
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Comments, string and char literals and the inline test module (its `super` is the file
/// itself) out, in one left-to-right pass, so prose and tests do not count as imports and a
/// `//` inside a string does not hide the code after it.
fn strip(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests {") {
        Some(i) => &text[..i],
        None => text,
    };
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < c.len() {
        let next = c.get(i + 1).copied();
        if c[i] == '/' && next == Some('/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if c[i] == '/' && next == Some('*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c[i] == 'r'
            && (next == Some('"') || next == Some('#'))
            && (i == 0 || !(c[i - 1].is_alphanumeric() || c[i - 1] == '_'))
        {
            // Raw string: r"..." or r#"..."#, as many hashes as it opened with.
            let mut j = i + 1;
            let mut hashes = 0;
            while c.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if c.get(j) != Some(&'"') {
                out.push(c[i]);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= c.len() {
                    break;
                }
                if c[j] == '"' && (0..hashes).all(|k| c.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c[i] == '"' {
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c[i] == '\'' {
            // A char literal ('x', '\n', '\u{..}'), or a lifetime ('a), which stays.
            if next == Some('\\') {
                i += 2;
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
                out.push_str("' '");
            } else if c.get(i + 2) == Some(&'\'') {
                i += 3;
                out.push_str("' '");
            } else {
                out.push(c[i]);
                i += 1;
            }
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// `a::{b, c::{d}}` -> [a::b, a::c::d]
fn expand(body: &str) -> Vec<String> {
    let body = body.trim();
    let Some(open) = body.find("::{") else {
        return vec![body.to_string()];
    };
    let prefix = &body[..open];
    let inner = body[open + 3..].trim_end().trim_end_matches('}');
    let mut parts = Vec::new();
    let (mut depth, mut cur) = (0, String::new());
    for c in inner.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            _ => {}
        }
        if c == ',' && depth == 0 {
            parts.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    parts.push(cur);
    parts
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .flat_map(|p| {
            if p == "self" {
                vec![prefix.to_string()]
            } else {
                expand(&format!("{prefix}::{p}"))
            }
        })
        .collect()
}

fn paths_in(text: &str) -> Vec<String> {
    let text = strip(text);
    let uses = regex::Regex::new(r"(?s)\buse\s+((?:crate|super)(?:::[^;]*)?);").unwrap();
    let mut found: Vec<String> = uses
        .captures_iter(&text)
        .flat_map(|c| expand(&c[1]))
        .collect();
    let body = regex::Regex::new(r"(?s)\buse\s+[^;]*;")
        .unwrap()
        .replace_all(&text, "");
    let inline = regex::Regex::new(r"\b((?:crate|super)(?:::\w+)+)").unwrap();
    found.extend(inline.captures_iter(&body).map(|c| c[1].to_string()));
    found
}

#[test]
fn each_layer_imports_only_earlier_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let rel = |p: &Path| {
        p.strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/")
    };
    // The binary (main.rs, cli/) sits on top and reaches the library as `readyscan::`.
    let lib: Vec<PathBuf> = files
        .into_iter()
        .filter(|p| {
            let r = rel(p);
            r != "main.rs" && !r.starts_with("cli/")
        })
        .collect();
    let modules: BTreeMap<Vec<String>, String> =
        lib.iter().map(|p| (module_of(&rel(p)), rel(p))).collect();
    let mut wrong = Vec::new();
    let mut unplaced = Vec::new();
    for path in &lib {
        let from = rel(path);
        let Some(from_layer) = layer_of(&from) else {
            unplaced.push(from);
            continue;
        };
        let own = module_of(&from);
        let text = std::fs::read_to_string(path).unwrap();
        for p in paths_in(&text) {
            let segs: Vec<&str> = p
                .split("::")
                .map(|s| s.split(" as ").next().unwrap_or(s).trim())
                .filter(|s| !s.is_empty())
                .collect();
            let (mut target, rest): (Vec<String>, &[&str]) = if segs[0] == "crate" {
                (Vec::new(), &segs[1..])
            } else {
                let mut cur = own.clone();
                let mut rest = &segs[..];
                while rest.first() == Some(&"super") {
                    cur.pop();
                    rest = &rest[1..];
                }
                (cur, rest)
            };
            for s in rest {
                let mut next = target.clone();
                next.push(s.to_string());
                if modules.contains_key(&next) {
                    target = next;
                } else {
                    break;
                }
            }
            let Some(to) = modules.get(&target) else {
                continue;
            };
            // A module naming its own submodules (a registry) is not an import back up.
            if to == &from || (target.len() > own.len() && target.starts_with(&own)) {
                continue;
            }
            let to_layer = layer_of(to).unwrap_or(u8::MAX);
            if to_layer > from_layer {
                wrong.push(format!(
                    "{from} (layer {from_layer}) imports {to} (layer {to_layer}) via {p}"
                ));
            }
            let step = |r: &str| {
                r.strip_prefix("postprocess/")
                    .and_then(|s| s.split(['/', '.']).next())
                    .map(str::to_string)
            };
            if let (Some(a), Some(b)) = (step(&from), step(to)) {
                if a != b && a != "mod" && b != "mod" {
                    wrong.push(format!(
                        "post-processing step {from} imports another step {to} via {p}"
                    ));
                }
            }
        }
    }
    assert!(
        unplaced.is_empty(),
        "files with no layer in tests/layers.rs: {unplaced:?}"
    );
    assert!(
        wrong.is_empty(),
        "imports against the layer order:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_resolver_sees_what_it_guards() {
    // The check above is only as good as its path reading: make sure it finds real edges.
    let paths = paths_in(
        "use crate::a::{b, c::{d, e}};\n// use crate::comment;\nlet s = \"crate::string\";\nfn f() { crate::x::y(); }",
    );
    assert_eq!(
        paths,
        [
            "crate::a::b",
            "crate::a::c::d",
            "crate::a::c::e",
            "crate::x::y"
        ]
    );
    assert_eq!(layer_of("probes/dns/spec.rs"), Some(4));
    assert_eq!(layer_of("probes/dns/srv.rs"), Some(6));
    assert_eq!(layer_of("render/view.rs"), Some(10));
    assert_eq!(module_of("probes/dns/mod.rs"), ["probes", "dns"]);
}
