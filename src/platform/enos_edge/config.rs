//! [`EdgeConfig`]: who the device is, where the Edge listens, and the flow's timing.

use super::EdgeEndpoints;

/// Longest `assetId`, `serialNum` and download id the flow keeps.
pub const ID_LEN: usize = 64;

/// How an update the Edge offers is decided (EnOS's two upgrade modes, seed 001).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum UpgradeMode {
    /// Cloud forced push: every update the Edge offers starts at once. The flow answers the
    /// Agent's [`decide`](crate::agent::Application::decide) hook itself with `AcceptNow`;
    /// the device's own say is the self-test before the new image is confirmed.
    ForcedPush,
    /// Upon device request: the application's [`decide`](crate::agent::Application::decide)
    /// judges every offer (accept now, later, decline). The device can also ask at once with
    /// [`EdgeDevice::check_now`](super::EdgeDevice::check_now) when its conditions are met.
    UponRequest,
}

/// Why a configuration was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum EdgeConfigError {
    /// `assetId` or `serialNum` is longer than [`ID_LEN`] bytes.
    TooLong,
    /// `assetId` and `serialNum` are both empty: nothing names the device.
    EmptyAssetId,
    /// The Edge's host makes no valid endpoint URL ([`EdgeConfig::for_host`]).
    Endpoint(super::EndpointError),
}

impl core::fmt::Display for EdgeConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::TooLong => f.write_str("asset id or serial number too long"),
            Self::EmptyAssetId => f.write_str("asset id and serial number both empty"),
            Self::Endpoint(_) => f.write_str("host makes no valid endpoint URL"),
        }
    }
}

impl core::error::Error for EdgeConfigError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Endpoint(e) => Some(e),
            _ => None,
        }
    }
}

/// The device's identity, the Edge's endpoints and the flow's timing.
///
/// ```
/// use ota_client::platform::enos_edge::{EdgeConfig, EdgeEndpoints, UpgradeMode};
/// let endpoints: EdgeEndpoints = EdgeEndpoints::for_host("192.168.1.10").unwrap();
/// let mut config = EdgeConfig::new(endpoints, "ZR3c5CfFSO", "1234-5678-90aa").unwrap();
/// config.poll_interval_ms = 30_000;
/// config.mode = UpgradeMode::ForcedPush;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeConfig<const N: usize = 64> {
    /// Base URL of each endpoint (seed defaults: port 5055, 5050 for downloadresult).
    pub endpoints: EdgeEndpoints<N>,
    /// `assetId`: the sub-device's id at the Edge. May be empty when the device knows only
    /// its serial number: seed 000's checkversion request carries `"assetId":""` with the
    /// `serialNum`, and the Edge's answer names the asset. The flow then sends the checkversion
    /// with an empty `assetId` and fills the reports' `assetId` with the one the Edge echoed.
    pub asset_id: heapless::String<ID_LEN>,
    /// `serialNum` sent with checkversion.
    pub serial_num: heapless::String<ID_LEN>,
    /// Time between two checkversion requests, in ms (default 60 s).
    pub poll_interval_ms: u64,
    /// Wait before sending a report again after the Edge refused it or the link failed, in
    /// ms (default 10 s).
    pub report_retry_ms: u64,
    /// An update that was declined, refused or failed is not offered to the Agent again
    /// for this long (default 1 h), so the Edge's repeated answers do not start the same
    /// failing download, or report the same refusal, every poll. 0: retry at once.
    pub refused_retry_ms: u64,
    /// Forced push or upon device request (default upon device request).
    pub mode: UpgradeMode,
}

impl EdgeConfig {
    /// [`new`](Self::new) with every endpoint on `host` at the default ports
    /// ([`EdgeEndpoints::for_host`]) and the default URL capacity.
    pub fn for_host(host: &str, asset_id: &str, serial_num: &str) -> Result<Self, EdgeConfigError> {
        let endpoints = EdgeEndpoints::for_host(host).map_err(EdgeConfigError::Endpoint)?;
        Self::new(endpoints, asset_id, serial_num)
    }
}

impl<const N: usize> EdgeConfig<N> {
    /// A configuration with the default timing and mode. `asset_id` may be empty when
    /// `serial_num` is not (see [`EdgeConfig::asset_id`]).
    pub fn new(
        endpoints: EdgeEndpoints<N>,
        asset_id: &str,
        serial_num: &str,
    ) -> Result<Self, EdgeConfigError> {
        if asset_id.is_empty() && serial_num.is_empty() {
            return Err(EdgeConfigError::EmptyAssetId);
        }
        let mut a = heapless::String::new();
        a.push_str(asset_id).map_err(|_| EdgeConfigError::TooLong)?;
        let mut s = heapless::String::new();
        s.push_str(serial_num).map_err(|_| EdgeConfigError::TooLong)?;
        Ok(Self {
            endpoints,
            asset_id: a,
            serial_num: s,
            poll_interval_ms: 60_000,
            report_retry_ms: 10_000,
            refused_retry_ms: 3_600_000,
            mode: UpgradeMode::UponRequest,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_identity() {
        let e: EdgeEndpoints = EdgeEndpoints::for_host("10.0.0.1").unwrap();
        assert_eq!(EdgeConfig::new(e.clone(), "", ""), Err(EdgeConfigError::EmptyAssetId));
        // Seed 000's request: no assetId, only the serial number.
        let by_serial = EdgeConfig::new(e.clone(), "", "1234-5678-90aa").unwrap();
        assert_eq!((by_serial.asset_id.as_str(), by_serial.serial_num.as_str()), ("", "1234-5678-90aa"));
        let long = "a".repeat(ID_LEN + 1);
        assert_eq!(EdgeConfig::new(e.clone(), &long, "x"), Err(EdgeConfigError::TooLong));
        assert_eq!(EdgeConfig::new(e.clone(), "a", &long), Err(EdgeConfigError::TooLong));
        let c = EdgeConfig::new(e, "dev", "sn").unwrap();
        assert_eq!((c.asset_id.as_str(), c.mode), ("dev", UpgradeMode::UponRequest));
    }
}
