//! Arbitrary sequences of requests, messages, commands and time jumps never
//! break the engine's invariants (see `engineio::sim::run_script`).

use engineio::sim::run_script;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_scripts_keep_the_invariants(script in proptest::collection::vec(any::<u8>(), 0..600)) {
        if let Err(violation) = run_script(&script) {
            prop_assert!(false, "{violation}");
        }
    }
}

#[test]
fn scripts_that_exercise_the_upgrade_keep_the_invariants() {
    // config bytes, then: open polling, poll, upgrade, probe, 5, send, advance, close
    let script = [
        0, 30, 20, 50, 10, 100, 4, 9, // config
        0, // open polling
        2, 0, // poll
        6, 0, // upgrade request
        7, 0, 0, // ws text "2probe"
        7, 0, 1, // ws text "5"
        11, 0, 4, // send
        13, 50, 0, // advance
        12, 0, // close
    ];
    run_script(&script).unwrap();
}
