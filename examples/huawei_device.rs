//! A Huawei IoTDA device on the host: it connects to the broker given on the command line,
//! subscribes to `$oc/devices/dev-001/sys/events/down`, answers `version_query` with a
//! `version_report`, takes `firmware_upgrade` / `software_upgrade` (with the bearer
//! `access_token` on the download) and their `_v2` forms, checks the SHA-256 `sign`,
//! reports `upgrade_progress_report` (result code 0 with progress, or 1..10 / 255), reboots
//! (simulated), confirms the new image and reports success (result 0, progress 100, version
//! = the target).
//!
//! ```text
//! cargo run --example huawei_device -- mqtt://HOST[:PORT] [--running 1.0.0] [--demo]
//! ```
//!
//! Try it in one command with a local broker and the mock cloud (which offers a 128 KiB
//! image from a mock HTTP server and checks every report against the IoTDA format):
//!
//! ```text
//! apt-get install -y mosquitto          # Debian/Ubuntu
//! mosquitto -p 1883 &
//! cargo run --example huawei_device -- mqtt://127.0.0.1:1883 --demo
//! ```
//!
//! Or be the cloud yourself: serve a file (`python3 -m http.server 8000` in its directory),
//! run the device without `--demo`, watch with `mosquitto_sub -t '$oc/devices/+/sys/events/up' -v`,
//! and offer the file:
//!
//! ```text
//! mosquitto_pub -t '$oc/devices/dev-001/sys/events/down' -q 1 -m '{"services":[{"service_id":"$ota",
//!   "event_type":"firmware_upgrade","paras":{"version":"2.0.0","url":"http://127.0.0.1:8000/fw.bin",
//!   "file_size":SIZE,"access_token":"TOKEN","expires":86400,"sign":"SHA256HEX"}}]}'
//! ```

mod device_host;

use device_host::{Args, run};
use ota_client::mock::mqtt_cloud::CloudPlatform;
use ota_client::platform::flow::HuaweiDialect;
use ota_client::{Digest, Offer, Version};
use sha2::Digest as _;

fn main() {
    let args = Args::parse("huawei_device mqtt://HOST[:PORT] [--running VERSION] [--demo]");
    let dialect = || HuaweiDialect::new("dev-001").expect("short id");
    run("huawei-dev-001", &args, CloudPlatform::huawei("dev-001"), dialect, |image, url| {
        let digest = Digest { md5: None, sha256: Some(sha2::Sha256::digest(image).into()) };
        let size = u32::try_from(image.len()).expect("small image");
        Offer::new(Version::parse("2.0.0").expect("version"), size, digest)
            .with_location(url)
            .and_then(|o| o.with_token("demo-access-token"))
            .expect("url and token fit")
    });
}
