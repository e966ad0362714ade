//! Why an update failed: the union of the causes the platforms know.
//!
//! Each platform module maps a [`FailureCause`] to its own code (Tencent `-1..-5`, Huawei
//! `result_code`, EnOS `step`/`errcode`, PCP status bytes).

/// Why an update did not complete. Every platform code is a mapping of one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FailureCause {
    /// The image does not fit in the target slot, or flash space ran out.
    NotEnoughStorage,
    /// A buffer the caller sized is too small for the data.
    OutOfMemory,
    /// The link to the server was lost and did not come back within the retry budget.
    ConnectionLost,
    /// Size or digest of the downloaded image does not match the offer.
    IntegrityCheckFailure,
    /// The package is of a kind this device cannot install.
    UnsupportedPackage,
    /// The download location could not be parsed or resolved.
    InvalidUri,
    /// The download did not finish in time.
    DownloadTimeout,
    /// The server says the file does not exist.
    FileNotFound,
    /// The download authorisation (token, presigned URL) has expired.
    AuthorisationExpired,
    /// Writing, staging or booting the new image failed.
    UpdateFailed,
    /// The offered version is the one already running.
    AlreadyLatest,
    /// The device is busy with another update or task.
    Busy,
    /// The battery is too low to update safely.
    LowBattery,
    /// The application declined the update.
    DeclinedByApplication,
    /// The offer itself is malformed (size 0, bad digest, unparsable version).
    InvalidOffer,
    /// The offered version is lower than the running one, and downgrades are not allowed
    /// ([`AgentConfig::allow_downgrade`](crate::agent::AgentConfig::allow_downgrade)).
    Downgrade,
    /// The image's signed manifest names another version than the offer: an old image offered
    /// under a newer label, or a mislabelled offer. Nothing is staged.
    VersionMismatch,
    /// A newer offer replaced this update before it was staged (see the Agent's rule for
    /// offers during a download, [`Agent::offer`](crate::agent::Agent::offer)).
    Superseded,
}

impl FailureCause {
    /// A short English description, suitable for a platform's free-text `desc` field.
    pub const fn description(self) -> &'static str {
        match self {
            Self::NotEnoughStorage => "not enough storage",
            Self::OutOfMemory => "out of memory",
            Self::ConnectionLost => "connection lost",
            Self::IntegrityCheckFailure => "integrity check failure",
            Self::UnsupportedPackage => "unsupported package",
            Self::InvalidUri => "invalid URI",
            Self::DownloadTimeout => "download timeout",
            Self::FileNotFound => "file not found",
            Self::AuthorisationExpired => "authorisation expired",
            Self::UpdateFailed => "update failed",
            Self::AlreadyLatest => "already latest",
            Self::Busy => "device busy",
            Self::LowBattery => "low battery",
            Self::DeclinedByApplication => "declined by application",
            Self::InvalidOffer => "invalid offer",
            Self::Downgrade => "downgrade refused",
            Self::VersionMismatch => "signed version differs from the offer",
            Self::Superseded => "superseded by a newer offer",
        }
    }

    /// Every cause, for exhaustive mapping tests. The index of a cause here is its code in
    /// persisted reports: new causes are only ever appended.
    pub const ALL: [FailureCause; 18] = [
        Self::NotEnoughStorage,
        Self::OutOfMemory,
        Self::ConnectionLost,
        Self::IntegrityCheckFailure,
        Self::UnsupportedPackage,
        Self::InvalidUri,
        Self::DownloadTimeout,
        Self::FileNotFound,
        Self::AuthorisationExpired,
        Self::UpdateFailed,
        Self::AlreadyLatest,
        Self::Busy,
        Self::LowBattery,
        Self::DeclinedByApplication,
        Self::InvalidOffer,
        Self::Superseded,
        Self::Downgrade,
        Self::VersionMismatch,
    ];
}

impl core::fmt::Display for FailureCause {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.description())
    }
}
