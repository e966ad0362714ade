//! `Checker`: counts checks, prints each over semihosting, and ends the run with an exit code
//! QEMU passes on (0 when every check passed).

use core::fmt::Debug;
use cortex_m_semihosting::{debug, hprintln};

/// A check that failed badly enough that the scenario cannot go on.
#[derive(Debug)]
pub struct Abort;

/// Check counter.
pub struct Checker {
    passed: u32,
    failed: u32,
}

impl Checker {
    /// No checks yet.
    pub const fn new() -> Self {
        Self { passed: 0, failed: 0 }
    }

    /// Records `ok` under the name `what`.
    pub fn check(&mut self, ok: bool, what: &str) -> bool {
        if ok {
            self.passed += 1;
            hprintln!("  ok   {}", what);
        } else {
            self.failed += 1;
            hprintln!("  FAIL {}", what);
        }
        ok
    }

    /// Records that `left == right`, printing both when they differ.
    pub fn equal<T: PartialEq + Debug>(&mut self, left: T, right: T, what: &str) -> bool {
        let ok = self.check(left == right, what);
        if !ok {
            hprintln!("       got {:?}, expected {:?}", left, right);
        }
        ok
    }

    /// A step the scenario needs: prints and counts it, and turns an error into [`Abort`].
    pub fn must<T, E: Debug>(&mut self, result: Result<T, E>, what: &str) -> Result<T, Abort> {
        match result {
            Ok(v) => {
                self.check(true, what);
                Ok(v)
            }
            Err(e) => {
                self.check(false, what);
                hprintln!("       error: {:?}", e);
                Err(Abort)
            }
        }
    }

    /// Like [`Checker::must`], but prints nothing on success (for steps inside loops).
    pub fn quiet<T, E: Debug>(&mut self, result: Result<T, E>, what: &str) -> Result<T, Abort> {
        result.map_err(|e| {
            self.check(false, what);
            hprintln!("       error: {:?}", e);
            Abort
        })
    }

    /// Prints the summary line and leaves QEMU with the matching exit code.
    pub fn finish(&self) -> ! {
        hprintln!("ota-board: {} passed, {} failed", self.passed, self.failed);
        if self.failed == 0 {
            hprintln!("ota-board: SUCCESS");
            debug::exit(debug::EXIT_SUCCESS);
        } else {
            hprintln!("ota-board: FAILURE");
            debug::exit(debug::EXIT_FAILURE);
        }
        #[allow(clippy::empty_loop)]
        loop {}
    }
}
