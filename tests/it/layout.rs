//! The shape of `src/`, checked: no import circles between modules, no file over 600 lines, a
//! `//!` comment atop every module, and a web layer that never touches Redis itself.
//!
//! Module dependencies are read from the source text: every `use` path and every `crate::` /
//! `super::` path outside a file's `#[cfg(test)]` part, resolved to the module file it names.
//! `mod` declarations are not dependencies (a parent declaring a child does not use it).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 600;

/// A module of the crate, as its path segments (`["queue", "read"]`; `[]` is the crate root).
type Module = Vec<String>;

struct Source {
    module: Module,
    file: PathBuf,
    text: String,
}

fn sources() -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    collect(&root, &mut files);
    files
        .into_iter()
        .filter(|file| file.file_name().is_some_and(|n| n != "main.rs"))
        .map(|file| {
            let relative = file.strip_prefix(&root).unwrap().with_extension("");
            let mut module: Module = relative
                .iter()
                .map(|part| part.to_string_lossy().into_owned())
                .collect();
            if module
                .last()
                .is_some_and(|last| last == "mod" || last == "lib")
            {
                module.pop();
            }
            let text = std::fs::read_to_string(&file).unwrap();
            Source { module, file, text }
        })
        .collect()
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// The file's code: without its tests (everything from the first `#[cfg(test)]`) and without
/// comment lines (a doc comment may name a module it does not use).
fn code_of(text: &str) -> String {
    let code = text.find("#[cfg(test)]").map_or(text, |at| &text[..at]);
    code.split_inclusive('\n')
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect()
}

/// Every path of a `use` tree, braces expanded: `a::{b, c::d}` gives `a::b`, `a::c::d`.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        let path = tree.split(" as ").next().unwrap_or("").trim();
        return vec![path.trim_end_matches("::*").to_string()];
    };
    let head = tree[..open].trim_end_matches("::");
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|part| !part.trim().is_empty())
        .flat_map(expand)
        .map(|tail| match tail.as_str() {
            "self" => head.to_string(),
            _ if head.is_empty() => tail,
            _ => format!("{head}::{tail}"),
        })
        .collect()
}

/// The paths a file's code names: its `use` trees, and `crate::` / `super::` paths inline.
fn paths_of(code: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let mut offset = 0;
    for line in code.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let statement = ["use ", "pub use ", "pub(crate) use ", "pub(super) use "]
            .iter()
            .find_map(|lead| trimmed.strip_prefix(lead));
        if let Some(tail) = statement {
            let start = offset + (line.len() - tail.len());
            if let Some(end) = code[start..].find(';') {
                paths.extend(expand(&code[start..start + end]));
            }
        }
        offset += line.len();
    }
    for start in ["crate::", "super::"] {
        let mut rest = code;
        while let Some(at) = rest.find(start) {
            let before = rest[..at].chars().last();
            let tail: String = rest[at..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            if !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                paths.push(tail.trim_end_matches(':').to_string());
            }
            rest = &rest[at + start.len()..];
        }
    }
    paths
}

/// The module a path names, relative to `from`: the longest known module it starts with.
fn resolve(from: &Module, path: &str, known: &BTreeSet<Module>) -> Option<Module> {
    let mut segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
    let mut base: Module = match segments.first() {
        Some(&"crate") => {
            segments.remove(0);
            Vec::new()
        }
        Some(&"super") => {
            let mut base = from.clone();
            while segments.first() == Some(&"super") {
                segments.remove(0);
                base.pop();
            }
            base
        }
        Some(&"self") => {
            segments.remove(0);
            from.clone()
        }
        Some(first) => {
            let mut child = from.clone();
            child.push(first.to_string());
            if !known.contains(&child) {
                return None; // an external crate or std
            }
            from.clone()
        }
        None => return None,
    };
    for segment in segments {
        let mut next = base.clone();
        next.push(segment.to_string());
        if !known.contains(&next) {
            break;
        }
        base = next;
    }
    Some(base)
}

fn graph() -> BTreeMap<Module, BTreeSet<Module>> {
    let sources = sources();
    let known: BTreeSet<Module> = sources.iter().map(|s| s.module.clone()).collect();
    sources
        .iter()
        .map(|source| {
            let uses = paths_of(&code_of(&source.text))
                .iter()
                .filter_map(|path| resolve(&source.module, path, &known))
                .filter(|target| target != &source.module)
                .collect();
            (source.module.clone(), uses)
        })
        .collect()
}

fn name(module: &Module) -> String {
    if module.is_empty() {
        "crate".into()
    } else {
        module.join("::")
    }
}

/// A cycle through `start`, if there is one (depth-first search).
fn cycle_from(graph: &BTreeMap<Module, BTreeSet<Module>>, start: &Module) -> Option<Vec<Module>> {
    let mut stack = vec![(start.clone(), vec![start.clone()])];
    let mut seen = BTreeSet::new();
    while let Some((module, trail)) = stack.pop() {
        for next in graph.get(&module).into_iter().flatten() {
            if next == start {
                let mut cycle = trail.clone();
                cycle.push(start.clone());
                return Some(cycle);
            }
            if seen.insert(next.clone()) {
                let mut longer = trail.clone();
                longer.push(next.clone());
                stack.push((next.clone(), longer));
            }
        }
    }
    None
}

#[test]
fn the_parser_reads_use_trees_and_paths() {
    assert_eq!(
        expand("super::{a, b::{C, d as e}, self}"),
        vec!["super::a", "super::b::C", "super::b::d", "super"]
    );
    let paths = paths_of("use crate::queue::{model::QueueRef, read};\nfn f() { crate::web::x(); }");
    assert!(paths.contains(&"crate::queue::model::QueueRef".to_string()));
    assert!(paths.contains(&"crate::queue::read".to_string()));
    assert!(paths.contains(&"crate::web::x".to_string()));
    let known: BTreeSet<Module> = [
        vec![],
        vec!["queue".into()],
        vec!["queue".into(), "read".into()],
    ]
    .into_iter()
    .collect();
    let from = vec!["queue".to_string(), "model".to_string()];
    assert_eq!(
        resolve(&from, "super::read::Reader", &known),
        Some(vec!["queue".into(), "read".into()])
    );
    assert_eq!(resolve(&from, "serde::Serialize", &known), None);
    // A graph with a circle is caught.
    let a = vec!["a".to_string()];
    let b = vec!["b".to_string()];
    let circular: BTreeMap<Module, BTreeSet<Module>> = [
        (a.clone(), [b.clone()].into_iter().collect()),
        (b.clone(), [a.clone()].into_iter().collect()),
    ]
    .into_iter()
    .collect();
    assert_eq!(cycle_from(&circular, &a), Some(vec![a.clone(), b, a]));
}

#[test]
fn no_module_imports_itself_through_a_circle() {
    let graph = graph();
    let cycles: Vec<String> = graph
        .keys()
        .filter_map(|module| cycle_from(&graph, module))
        .map(|cycle| cycle.iter().map(name).collect::<Vec<_>>().join(" -> "))
        .collect();
    assert!(cycles.is_empty(), "import circles:\n{}", cycles.join("\n"));
}

#[test]
fn every_source_file_is_small_and_says_what_it_is_for() {
    let mut problems = Vec::new();
    for source in sources() {
        let lines = source.text.lines().count();
        if lines > MAX_LINES {
            problems.push(format!("{}: {lines} lines", source.file.display()));
        }
        if !source.text.trim_start().starts_with("//!") {
            problems.push(format!(
                "{}: no //! comment at the top",
                source.file.display()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_web_layer_never_touches_redis_itself() {
    let mut problems = Vec::new();
    for source in sources()
        .iter()
        .filter(|s| s.module.first().is_some_and(|m| m == "web"))
    {
        let code = code_of(&source.text);
        for needle in ["redis::", "use redis", ".redis()", ":bullring:", ".keys()"] {
            if code.contains(needle) {
                problems.push(format!("{} contains {needle:?}", source.file.display()));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
