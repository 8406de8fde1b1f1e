//! Reading one scenario file so that every mistake in it is reported, not only the first. serde
//! stops a whole document at its first error; here the file is parsed into a spanned TOML tree
//! first (a syntax error stops only this file), then cut into small units (each top-level value,
//! each key of a top-level table, each entry of an array of tables: one `[[ecs.tasks]]` entry is
//! one unit) that are deserialized on their own. When a unit fails, the offending key or array
//! element is taken out and the unit tried again, so that each of its mistakes is found; a unit
//! with any mistake is left out of the file (and out of the world), whole.

use std::ops::{DerefMut, Range};

use serde::Deserialize;
use toml::de::{DeArray, DeTable, DeValue, ValueDeserializer};
use toml::Spanned;

use super::schema::ScenarioFile;
use super::suggest::did_you_mean;
use super::{Located, ScenarioError};

/// The most errors reported for one unit (an entry with a long list of bad values): each one
/// costs a new try of the unit.
const MAX_ERRORS_PER_UNIT: usize = 32;
/// The most errors reported for one file: past this, the rest of the file is not looked at.
pub(crate) const MAX_ERRORS_PER_FILE: usize = 200;

/// A file as far as it could be read: what deserialized, and every problem found on the way.
pub(crate) struct Parsed {
    pub file: ScenarioFile,
    pub errors: Vec<ScenarioError>,
}

/// Parses a file. `Err` is a TOML syntax error: nothing of the file can be trusted, so nothing of
/// it is kept (the other files of the load are still checked).
pub(crate) fn parse(source: &Located) -> Result<Parsed, ScenarioError> {
    // Most files are right: read whole, as fast as serde reads; piece by piece only to find
    // every mistake of a file that has one.
    match toml::from_str::<ScenarioFile>(source.text) {
        Ok(file) => Ok(Parsed { file, errors: Vec::new() }),
        Err(_) => parse_in_pieces(source),
    }
}

/// [`parse`] the slow way: every unit on its own.
fn parse_in_pieces(source: &Located) -> Result<Parsed, ScenarioError> {
    let root = DeTable::parse(source.text).map_err(|e| source.error_at(e.span().map_or(0, |s| s.start), e.message().trim_end().to_string()))?;
    let root_span = root.span();
    let mut file = ScenarioFile::default();
    let mut found: Vec<(usize, String)> = Vec::new();
    for unit in units(root.into_inner(), &root_span) {
        if found.len() > MAX_ERRORS_PER_FILE {
            break;
        }
        if let Some(part) = deserialize_unit(unit, &mut found) {
            file.absorb(part);
        }
    }
    found.sort();
    found.dedup();
    let more = found.len() > MAX_ERRORS_PER_FILE;
    found.truncate(MAX_ERRORS_PER_FILE);
    let mut errors: Vec<ScenarioError> = found.into_iter().map(|(at, message)| source.error_at(at, message)).collect();
    if more {
        errors.push(ScenarioError::whole(source.name, format!("more than {MAX_ERRORS_PER_FILE} problems: the rest of this file is not checked; fix these first")));
    }
    Ok(Parsed { file, errors })
}

/// The file cut into pieces that deserialize on their own, each a one-key document (`{ ecs = {
/// tasks = [<one entry>] } }`), in the file's order per key.
fn units<'i>(root: DeTable<'i>, root_span: &Range<usize>) -> Vec<Spanned<DeValue<'i>>> {
    let document = |key: Spanned<std::borrow::Cow<'i, str>>, value: Spanned<DeValue<'i>>| {
        let mut table = DeTable::new();
        table.insert(key, value);
        Spanned::new(root_span.clone(), DeValue::Table(table))
    };
    let mut units = Vec::new();
    for (key, value) in root {
        let span = value.span();
        match value.into_inner() {
            DeValue::Table(table) => {
                if table.is_empty() {
                    units.push(document(key.clone(), Spanned::new(span, DeValue::Table(table))));
                    continue;
                }
                for (inner_key, inner) in table {
                    let inner_span = inner.span();
                    let one = |v: Spanned<DeValue<'i>>| {
                        let mut section = DeTable::new();
                        section.insert(inner_key.clone(), v);
                        document(key.clone(), Spanned::new(span.clone(), DeValue::Table(section)))
                    };
                    match inner.into_inner() {
                        DeValue::Array(items) if !items.is_empty() => {
                            for item in items {
                                units.push(one(Spanned::new(inner_span.clone(), DeValue::Array(array_of(vec![item])))));
                            }
                        }
                        other => units.push(one(Spanned::new(inner_span, other))),
                    }
                }
            }
            DeValue::Array(items) if !items.is_empty() => {
                for item in items {
                    units.push(document(key.clone(), Spanned::new(span.clone(), DeValue::Array(array_of(vec![item])))));
                }
            }
            other => units.push(document(key, Spanned::new(span, other))),
        }
    }
    units
}

fn array_of(items: Vec<Spanned<DeValue<'_>>>) -> DeArray<'_> {
    let mut array = DeArray::new();
    for item in items {
        array.push(item);
    }
    array
}

/// Deserializes one unit; on failure records the error, takes the offending part out and tries
/// again, until the unit deserializes or nothing more can be taken out. Some only if it had no
/// error at all.
fn deserialize_unit(mut unit: Spanned<DeValue<'_>>, found: &mut Vec<(usize, String)>) -> Option<ScenarioFile> {
    let mut removed: Vec<Range<usize>> = Vec::new();
    let mut errors = 0;
    loop {
        let error = match ScenarioFile::deserialize(ValueDeserializer::from(unit.clone())) {
            Ok(file) => return (errors == 0).then_some(file),
            Err(e) => e,
        };
        let at = error.span().map_or(unit.span().start, |s| s.start);
        let taken = take_out(&mut unit, at);
        // A part that only fails because a mistake inside it was taken out (a phase that lost its
        // bad `status` now lacks one, a list that lost its one bad item is empty) is no new error.
        let consequence = taken.as_ref().is_some_and(|span| removed.iter().any(|r| span.start <= r.start && r.end <= span.end));
        if !consequence {
            found.push((at, with_suggestion(error.message().trim_end())));
            errors += 1;
        }
        match taken {
            Some(span) if errors < MAX_ERRORS_PER_UNIT => removed.push(span),
            _ => return None,
        }
    }
}

/// Takes out of `value` the innermost table entry or array element that holds offset `at`;
/// returns its span (key through value). None when no part of `value` holds it: the error is
/// about `value` itself. A table made by headers (`[[ecs.tasks]]` makes `ecs`) has a span that
/// does not cover its keys, so parts that do not hold `at` are still looked into.
fn take_out(value: &mut Spanned<DeValue<'_>>, at: usize) -> Option<Range<usize>> {
    let holds = |span: &Range<usize>| span.start <= at && at < span.end.max(span.start + 1);
    match value.get_mut() {
        DeValue::Table(table) => {
            let holder = table.iter().find(|(k, v)| holds(&k.span()) || holds(&v.span())).map(|(k, _)| k.clone());
            let Some(key) = holder else {
                return table.iter_mut().find_map(|(_, child)| take_out(child, at));
            };
            let child = table.get_mut(&key)?;
            if let Some(inner) = take_out(child, at) {
                return Some(inner);
            }
            let span = key.span().start.min(child.span().start)..child.span().end.max(key.span().end);
            table.remove(&key);
            Some(span)
        }
        DeValue::Array(array) => {
            let Some(index) = array.iter().position(|item| holds(&item.span())) else {
                return array.deref_mut().iter_mut().find_map(|item| take_out(item, at));
            };
            if let Some(inner) = take_out(&mut array.deref_mut()[index], at) {
                return Some(inner);
            }
            let span = array[index].span();
            let kept: Vec<_> = array.iter().enumerate().filter(|(i, _)| *i != index).map(|(_, item)| item.clone()).collect();
            *array = array_of(kept);
            Some(span)
        }
        _ => None,
    }
}

/// serde's "unknown field `x`, expected one of `a`, `b`" (and "unknown variant") with the nearest
/// of the expected names, when one is near.
pub(super) fn with_suggestion(message: &str) -> String {
    let unknown = ["unknown field `", "unknown variant `"].iter().find_map(|p| message.strip_prefix(p));
    let Some(rest) = unknown else { return message.to_string() };
    let Some((word, expected)) = rest.split_once('`') else { return message.to_string() };
    let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    format!("{message}{}", did_you_mean(word, candidates))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<String> {
        let source = Located { name: "t.toml", text };
        match parse(&source) {
            Ok(parsed) => parsed.errors.iter().map(ToString::to_string).collect(),
            Err(e) => vec![e.to_string()],
        }
    }

    #[test]
    fn every_mistake_of_one_entry_is_reported_at_its_key() {
        let text = "[[ecs.tasks]]\nid = \"t-1\"\ncolour = \"red\"\nsupport_cancel = \"yes\"\nregoin = \"cn-hangzhou\"\n";
        let errors = problems(text);
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].starts_with("t.toml:3:1: unknown field `colour`"), "{errors:?}");
        assert!(errors[1].starts_with("t.toml:4:18: invalid type: string \"yes\", expected a boolean"), "{errors:?}");
        assert!(errors[2].starts_with("t.toml:5:1: unknown field `regoin`") && errors[2].ends_with("(did you mean \"region\"?)"), "{errors:?}");
    }

    #[test]
    fn mistakes_in_every_entry_and_section_are_reported() {
        let text = "seed = \"x\"\n[clock]\nrate = \"fast\"\nstrat = \"+1h\"\n[[ecs.tasks]]\nid = 5\n[[ecs.tasks]]\nid = \"ok\"\n[[ecs.task]]\nid = \"x\"\n[[sas.tasks]]\nid = 1\nlifecycle = [{ status = \"Bad\", for = \"1x\" }, { status = \"Finished\" }]\n";
        let errors = problems(text);
        let suggest = " (did you mean \"start\"?)";
        assert_eq!(
            errors,
            [
                "t.toml:1:8: invalid type: string \"x\", expected u64".to_string(),
                "t.toml:3:8: invalid type: string \"fast\", expected f64".into(),
                format!("t.toml:4:1: unknown field `strat`, expected `start` or `rate`{suggest}"),
                "t.toml:6:6: invalid type: integer `5`, expected a string".into(),
                "t.toml:9:7: unknown field `task`, expected `tasks` or `generate` (did you mean \"tasks\"?)".into(),
                "t.toml:13:25: unknown status \"Bad\": expected one of init, Processing, Success, Failed".into(),
                "t.toml:13:38: bad duration \"1x\": expected a number and a unit (ms, s, m, h, d), e.g. \"90s\" or \"1h30m\"".into(),
                "t.toml:13:57: unknown status \"Finished\": expected one of init, Processing, Success, Failed".into(),
            ]
        );
        // The good entry is kept, the bad ones are not.
        let parsed = parse(&Located { name: "t.toml", text }).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.file.ecs.tasks.len(), 1);
        assert!(parsed.file.sas.tasks.is_empty() && parsed.file.seed.is_none());
    }

    #[test]
    fn a_phase_that_loses_its_bad_status_is_not_also_missing_one() {
        let errors = problems("[[ecs.tasks]]\nid = \"t\"\nlifecycle = [{ status = \"Nope\" }]\n");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].starts_with("t.toml:3:25: unknown status \"Nope\""), "{errors:?}");
    }

    #[test]
    fn a_syntax_error_stops_the_file() {
        let errors = problems("[[ecs.tasks]\nid = 1\ncolour = 2\n");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].starts_with("t.toml:1:"), "{errors:?}");
    }

    #[test]
    fn a_good_file_reads_in_pieces_as_serde_reads_it_whole() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files: Vec<std::path::PathBuf> = ["scenarios", "fixtures/sdk", "fixtures/docs", "tests/sdk/scenarios"]
            .iter()
            .flat_map(|dir| std::fs::read_dir(root.join(dir)).into_iter().flatten().flatten().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        assert!(files.len() > 10);
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap();
            let name = path.display().to_string();
            let parsed = parse_in_pieces(&Located { name: &name, text: &text }).unwrap_or_else(|e| panic!("{e}"));
            assert!(parsed.errors.is_empty(), "{name}: {:?}", parsed.errors);
            let whole: ScenarioFile = toml::from_str(&text).unwrap();
            assert_eq!(format!("{:?}", parsed.file), format!("{whole:?}"), "{name}");
        }
    }

    #[test]
    fn the_errors_of_one_file_are_bounded() {
        let text: String = (0..MAX_ERRORS_PER_FILE + 50).map(|i| format!("[[ecs.tasks]]\nid = {i}\n")).collect();
        let errors = problems(&text);
        assert_eq!(errors.len(), MAX_ERRORS_PER_FILE + 1);
        assert_eq!(errors[MAX_ERRORS_PER_FILE], format!("t.toml: more than {MAX_ERRORS_PER_FILE} problems: the rest of this file is not checked; fix these first"));
        // And of one entry: a list of many bad values.
        let items: Vec<String> = (0..100).map(|i| i.to_string()).collect();
        let errors = problems(&format!("[[avds.scans]]\nscan_id = \"s\"\ntargets = [{}]\n", items.join(", ")));
        assert_eq!(errors.len(), MAX_ERRORS_PER_UNIT, "{errors:?}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config { cases: 48, ..Default::default() })]
        /// Any mix of good and bad lines: no panic, and the errors are sorted, bounded, and at a
        /// place in the file.
        #[test]
        fn any_mix_of_lines_is_reported_in_order(picks in proptest::collection::vec(0usize..LINES.len(), 0..40)) {
            let text: String = picks.iter().map(|&i| LINES[i]).collect::<Vec<_>>().join("\n");
            let source = Located { name: "p.toml", text: &text };
            if let Ok(parsed) = parse(&source) {
                let places: Vec<(usize, usize)> = parsed.errors.iter().map(|e| (e.line, e.column)).collect();
                let mut sorted = places.clone();
                sorted.sort();
                proptest::prop_assert_eq!(&places, &sorted);
                proptest::prop_assert!(parsed.errors.len() <= MAX_ERRORS_PER_FILE + 1);
                proptest::prop_assert!(places.iter().all(|&(line, _)| line <= text.lines().count().max(1)));
            }
        }
    }

    const LINES: &[&str] = &[
        "[[ecs.tasks]]",
        "[[ecs.generate]]",
        "[[sas.tasks]]",
        "[clock]",
        "id = \"t-1\"",
        "id = 7",
        "count = 3",
        "colour = \"red\"",
        "created = \"+1h..-1h\"",
        "created = \"-1h\"",
        "lifecycle = [{ status = \"Nope\", for = \"1x\" }, { status = \"Finished\" }]",
        "rate = \"fast\"",
        "start = \"2026-01-01T00:00:00Z\"",
        "seed = -1",
        "[[faults]]",
        "region = [\"cn-hangzhou\", 5]",
    ];

    #[test]
    fn suggestions_come_from_the_expected_names() {
        assert_eq!(with_suggestion("unknown field `statsu`, expected one of `status`, `for`"), "unknown field `statsu`, expected one of `status`, `for` (did you mean \"status\"?)");
        assert_eq!(with_suggestion("unknown field `zzz`, expected `a` or `b`"), "unknown field `zzz`, expected `a` or `b`");
        assert_eq!(with_suggestion("bad duration"), "bad duration");
    }
}
