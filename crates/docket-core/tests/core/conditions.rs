//! CEL conditions: what compiling refuses, in words, and that nothing that compiles can overflow
//! a stack when parsed or evaluated.

use docket_core::policy::{Condition, ConditionError, Variables};
use docket_core::*;

use crate::fixtures::*;

fn refused(source: &str) -> ConditionError {
    Condition::compile(source).expect_err("refused")
}

fn chain(terms: usize) -> String {
    format!("{} > 0", vec!["1"; terms].join(" + "))
}

fn parens(n: usize) -> String {
    format!("{}true{}", "(".repeat(n), ")".repeat(n))
}

/// Regression: a 3,000-term `1 + 1 + … > 0` compiled, and the server then overflowed its stack
/// (and aborted) evaluating it; 50,000 terms overflowed the parser itself.
#[test]
fn a_deep_condition_is_refused_before_it_is_parsed() {
    let e = refused(&chain(3_000));
    assert_eq!(e.message, "it nests 3,000 levels deep; the limit is 64");
    let hint = e.hint.as_deref().unwrap_or_default();
    assert!(hint.contains("split it"), "{hint}");
    // At the 65th operator: "1 + " is four characters, and the first `+` is at column 3.
    assert_eq!((e.line, e.column, e.offset), (1, 3 + 64 * 4, 2 + 64 * 4));
    assert_eq!(refused(&chain(50_000)).message, "it nests 50,000 levels deep; the limit is 64");
    let e = refused(&parens(3_000));
    assert_eq!(e.message, "it nests 3,000 levels deep; the limit is 64");
    assert_eq!(e.column, 65, "at the 65th bracket");
    assert_eq!(refused(&parens(100)).message, "it nests 100 levels deep; the limit is 64");
    let list = format!("size({}1{}) > 0", "[".repeat(70), "]".repeat(70));
    assert!(refused(&list).message.starts_with("it nests 7"), "{}", refused(&list).message);
}

#[test]
fn a_long_condition_is_refused() {
    let long = format!("params.environment in [{}]", vec!["\"production\""; 1_000].join(", "));
    let e = refused(&long);
    assert_eq!(e.message, format!("it is {} bytes long; the limit is 8,192 bytes (8 KiB)", thousands(long.len())));
    assert_eq!((e.line, e.column), (1, 1));
    let fits = format!("params.environment in [{}]", vec!["\"production\""; 500].join(", "));
    assert!(Condition::compile(&fits).is_ok(), "a long list at a shallow depth is fine");
}

fn thousands(n: usize) -> String {
    let s = n.to_string();
    let (head, tail) = s.split_at(s.len() - 3);
    format!("{head},{tail}")
}

/// Text that CEL's lexer reads as code although it looks like a string, a comment or a name
/// must be counted: each of these hides 3,000 brackets from a careless scan, which would then
/// overflow the parser's stack and abort this test.
#[test]
fn brackets_behind_strings_the_lexer_cannot_read_are_counted() {
    let deep = format!("{}1{}", "(".repeat(3_000), ")".repeat(3_000));
    for shape in [
        "\"x'''\n{}\n'''",              // a one-line string broken by a line break, holding `'''`
        "\"a\\q {}",                    // a string with an escape CEL does not know
        "`a//` + {}",                   // an escaped name holding `//`
        "r\"\\\" + {} + \"\"",          // a raw string ends at its second quote
        "1 // \"\"\"\n+ {}\n// \"\"\"", // quotes inside comments
        "'''abc\n{}",                   // an unclosed triple quote
        "a =\" + {} + \"",              // a lone `=` takes the quote after it with it
    ] {
        let source = shape.replace("{}", &deep);
        let e = refused(&source);
        assert!(e.message.contains("levels deep"), "{shape:?}: {}", e.message);
    }
    // Where CEL reads the brackets as a string, they are not counted: `0XAr` is `0` and the
    // name `XAr`, so the string is not raw and `\"` does not end it.
    let inside = format!("0XAr\"\\\" + {}1{} \"", "(".repeat(100), ")".repeat(100));
    assert_eq!(refused(&inside).message, "unexpected `XAr`");
}

#[test]
fn parse_errors_are_sentences_with_a_place() {
    let e = refused("1 +* 2");
    assert_eq!((e.message.as_str(), e.column), ("unexpected `*`", 4));
    let e = refused(r#"params.environment == "prod" and params.version == "1""#);
    assert_eq!((e.message.as_str(), e.hint.as_deref()), ("unexpected `and`", Some("CEL writes `&&` for and")));
    assert_eq!(e.column, 30);
    let e = refused(r#"params.environment = "prod""#);
    assert_eq!((e.message.as_str(), e.hint.as_deref()), ("unexpected `=`", Some("compare with `==`")));
    let e = refused(r#"params.environment == "pr\od""#);
    assert_eq!((e.message.as_str(), e.column), ("`\\o` is not an escape CEL knows", 23));
    let e = refused("params.environment == 'prod");
    assert_eq!(e.message, "this string is never closed");
    let e = refused("(params.x == 1");
    assert_eq!(e.message, "`)` is missing at the end");
    let e = refused("params.x == 1 ? true");
    assert_eq!(e.message, "a `?` needs a `:` and a second value");
    let e = refused("\"é\" == 1 +* 2");
    assert_eq!((e.column, e.offset), (11, 11), "columns count characters, offsets bytes");
    for source in ["1 +* 2", "a.b(", "{1: 2", "x`y`", "if x", "1 === 2", "b'\\xZZ'", "\"abc\nx\""] {
        let e = refused(source);
        for dump in ["ParseError", "OtherError", "expecting", "Syntax error", "{'", "<EOF>"] {
            assert!(!e.message.contains(dump), "{source:?} gave {:?}", e.message);
        }
    }
}

/// `inner` inside `n` times `open` … `close`.
fn nested(open: &str, inner: &str, close: &str, n: usize) -> String {
    format!("{}{inner}{}", open.repeat(n), close.repeat(n))
}

/// A condition `n` levels of something deep.
type Shape = Box<dyn Fn(usize) -> String>;

/// Regression: a macro's own variable (`g` in `requester.groups.exists(g, g == "sre")`) was
/// refused as an unknown variable, so no condition could use `all`, `exists`, `map` or `filter`
/// on a value.
#[test]
fn macros_may_read_the_variable_they_bind() {
    let world = World::new(Risk::Low);
    let params = validate_params(&world.workflow.params, &raw("prod")).unwrap();
    let person = PersonId::new("alice");
    let groups = world.directory.groups_of(&person);
    let vars = Variables::new(&world.workflow, &params, &person, &groups, tuesday(), &world.zone);
    for (source, expected) in [
        (r#"requester.groups.exists(g, g == "dev")"#, true),
        (r#"requester.groups.all(g, g.startsWith("sre"))"#, false),
        (r#"requester.groups.map(g, g + "!").exists(g, g == "dev!")"#, true),
        (r#"[1, 2].exists(x, [3].exists(y, x + y == 5))"#, true),
        (r#"requester.groups.filter(g, g != params.environment).size() == 1"#, true),
    ] {
        let condition = Condition::compile(source).unwrap_or_else(|e| panic!("{source}: {e}"));
        assert_eq!(condition.eval(&vars), Ok(expected), "{source}");
    }
    let e = refused(r#"[1].all(g, g > 0) && g == 1"#);
    assert_eq!((e.message.as_str(), e.column), ("unknown variable `g`", 22), "outside the macro, `g` is unknown");
    let e = refused(r#"[1].all(x, y > 0)"#);
    assert_eq!(e.message, "unknown variable `y`");
}

/// The deepest condition of `shape` that compiles: `shape(n)` for the largest `n` before
/// compiling refuses it for its depth.
fn deepest(shape: impl Fn(usize) -> String) -> (String, Condition) {
    let mut last = None;
    for n in 1..200 {
        let source = shape(n);
        match Condition::compile(&source) {
            Ok(condition) => last = Some((source, condition)),
            Err(e) => {
                assert!(e.message.contains("levels deep; the limit is 64"), "{source}: {e}");
                return last.expect("the shallowest one compiles");
            }
        }
    }
    panic!("{} never reached the limit", shape(200));
}

/// Conditions right at the depth limit, of the shapes that need the most stack per level, are
/// parsed on a 1 MiB stack and evaluated on a 256 KiB one: far less than the threads that do
/// either (the main thread's 8 MiB while loading, a worker's 2 MiB when deciding).
#[test]
fn a_condition_at_the_depth_limit_parses_and_evaluates_on_a_small_stack() {
    let shapes: Vec<(&str, Shape)> = vec![
        ("operator chain", Box::new(chain)),
        ("string chain", Box::new(|n| format!("{} != ''", vec!["'a'"; n].join(" + ")))),
        ("nested lists", Box::new(|n| format!("size({}1{}) == 1", "[".repeat(n), "]".repeat(n)))),
        ("nested groups", Box::new(|n| format!("{} == 1", nested("-(", "-1", ")", n)))),
        ("nested all", Box::new(|n| nested("[1].all(x, ", "true", ")", n))),
        ("nested map", Box::new(|n| format!("{}.size() == 1", nested("[1].map(x, ", "1", ")", n)))),
        ("nested exists_one", Box::new(|n| nested("[1].exists_one(x, ", "true", ")", n))),
        ("choices", Box::new(|n| format!("{}true", "false ? false : ".repeat(n)))),
        ("nested maps", Box::new(|n| format!("{}1{}.size() == 1", "{'a': ".repeat(n), "}".repeat(n)))),
    ];
    let world = World::new(Risk::Low);
    let params = validate_params(&world.workflow.params, &raw("prod")).unwrap();
    let person = PersonId::new("alice");
    let vars = Variables::new(&world.workflow, &params, &person, &[], tuesday(), &world.zone);
    for (name, shape) in &shapes {
        let (source, _) = deepest(shape);
        let condition = std::thread::scope(|s| {
            let parse = std::thread::Builder::new().stack_size(1 << 20).spawn_scoped(s, || Condition::compile(&source));
            parse.unwrap().join().expect("parsed on 1 MiB").unwrap()
        });
        let result = std::thread::scope(|s| {
            let eval = std::thread::Builder::new().stack_size(256 << 10).spawn_scoped(s, || condition.eval(&vars));
            eval.unwrap().join().expect("evaluated on 256 KiB")
        });
        assert!(matches!(result, Ok(true) | Ok(false)), "{name}: {result:?}");
    }
}
