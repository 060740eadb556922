//! Whatever text arrives — from a config file, a chat message or an API call — the parsers
//! answer with a value or an error, never a panic.

use docket_core::catalog::example::Example;
use docket_core::catalog::param::Pattern;
use docket_core::catalog::template::Template;
use docket_core::policy::Condition;
use docket_core::*;
use proptest::prelude::*;

/// Text biased towards the characters each grammar cares about.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[{}a-z_ .:$()\\[\\]\"'=!&|<>+*/%-]{0,40}",
        "[0-9a-z{}]{0,12}",
        "(params|now|workflow|requester)\\.[a-z]{0,8} ?(==|in|&&|\\|\\|) ?[\"\\[a-z0-9, ]{0,16}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn parsers_never_panic(s in text()) {
        let _ = Template::parse(&s);
        let _ = Example::parse(&s);
        let _ = Duration::parse(&s);
        let _ = Principal::parse(&s);
        let _ = TicketId::parse(&s);
        let _ = Digest::parse(&s);
        let _ = Pattern::new(&s);
        let _ = Condition::compile(&s);
    }

    #[test]
    fn templates_print_back_what_they_parse(s in "[a-z {}]{0,30}") {
        if let Ok(t) = Template::parse(&s) {
            let again = Template::parse(&t.to_string()).unwrap();
            prop_assert_eq!(again, t);
        }
    }

    #[test]
    fn durations_round_trip(millis in 0u64..(366 * 86_400_000)) {
        let d = Duration::from_millis(millis);
        prop_assert_eq!(Duration::parse(&d.to_string()).unwrap(), d);
    }
}
