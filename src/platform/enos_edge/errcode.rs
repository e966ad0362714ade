//! `errcode` of a failed updateresult, from a [`FailureCause`].
//!
//! The seed leaves `errcode` undefined ("upgrade exceptions can be reported through the
//! errcode field"). The Edge relays sub-device upgrades to EnOS, whose own progress `step`
//! codes are −1 upgrade failed, −2 download failed, −3 verify failed, −4 write failed,
//! −5 device declined, and below −5 user-defined. This mapping keeps those five for the
//! causes they name and gives every other cause its own code from −6 down, so the console
//! shows the exact reason and [`cause_of`] can tell it back. 0 means no error.
//!
//! | cause | errcode |
//! |---|---|
//! | UpdateFailed | −1 |
//! | ConnectionLost | −2 |
//! | IntegrityCheckFailure | −3 |
//! | NotEnoughStorage | −4 |
//! | DeclinedByApplication | −5 |
//! | DownloadTimeout | −6 |
//! | FileNotFound | −7 |
//! | AuthorisationExpired | −8 |
//! | InvalidUri | −9 |
//! | OutOfMemory | −10 |
//! | UnsupportedPackage | −11 |
//! | InvalidOffer | −12 |
//! | AlreadyLatest | −13 |
//! | Busy | −14 |
//! | LowBattery | −15 |
//! | Superseded | −16 |
//! | Downgrade | −17 |
//! | VersionMismatch | −18 |

use crate::FailureCause;

/// The errcode reported for `cause`.
pub const fn errcode(cause: FailureCause) -> i32 {
    use FailureCause as C;
    match cause {
        C::UpdateFailed => -1,
        C::ConnectionLost => -2,
        C::IntegrityCheckFailure => -3,
        C::NotEnoughStorage => -4,
        C::DeclinedByApplication => -5,
        C::DownloadTimeout => -6,
        C::FileNotFound => -7,
        C::AuthorisationExpired => -8,
        C::InvalidUri => -9,
        C::OutOfMemory => -10,
        C::UnsupportedPackage => -11,
        C::InvalidOffer => -12,
        C::AlreadyLatest => -13,
        C::Busy => -14,
        C::LowBattery => -15,
        C::Superseded => -16,
        C::Downgrade => -17,
        C::VersionMismatch => -18,
    }
}

/// The cause an errcode stands for; `None` for 0 and codes this library does not send.
pub fn cause_of(code: i32) -> Option<FailureCause> {
    FailureCause::ALL.into_iter().find(|&c| errcode(c) == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cause_has_its_own_code() {
        for cause in FailureCause::ALL {
            let code = errcode(cause);
            assert!(code < 0, "{cause:?}");
            assert_eq!(cause_of(code), Some(cause));
        }
        assert_eq!(cause_of(0), None);
        assert_eq!(cause_of(-99), None);
    }
}
