//! An EnOS cloud device on the host: it connects to the broker given on the command line,
//! reports its version with `ota.device.inform`, asks for firmware with
//! `ota.device.getversion` at every session start (upon device request: the newest listed
//! firmware newer than the running one is offered to the application's `decide`), takes
//! cloud-pushed `ota.device.upgrade` requests (answered with `upgrade_reply`), downloads over
//! HTTP into a simulated flash with `ota.device.progress` steps (−1..−5 on failure), reboots
//! (simulated), confirms the new image and informs the new version.
//!
//! ```text
//! cargo run --example enos_cloud_device -- mqtt://HOST[:PORT] [--running 1.0.0] [--demo]
//! ```
//!
//! Try it in one command with a local broker and the mock cloud (which pushes a 128 KiB
//! image from a mock HTTP server and checks every report against the EnOS format):
//!
//! ```text
//! apt-get install -y mosquitto          # Debian/Ubuntu
//! mosquitto -p 1883 &
//! cargo run --example enos_cloud_device -- mqtt://127.0.0.1:1883 --demo
//! ```
//!
//! Or be the cloud yourself: serve a file (`python3 -m http.server 8000` in its directory),
//! run the device without `--demo`, watch with `mosquitto_sub -t '/sys/pk1/dk1/ota/device/#' -v`,
//! and push the file:
//!
//! ```text
//! mosquitto_pub -t '/sys/pk1/dk1/ota/device/upgrade' -q 1 -m '{"id":"1","version":"1.0",
//!   "method":"ota.device.upgrade","params":{"version":"2.0.0","sign":"MD5HEX","signMethod":"md5",
//!   "fileUrl":"http://127.0.0.1:8000/fw.bin","fileSize":SIZE}}'
//! ```

mod device_host;

use device_host::{Args, run};
use ota_client::mock::mqtt_cloud::CloudPlatform;
use ota_client::platform::flow::EnosDialect;
use ota_client::{Digest, Offer, Version};

fn main() {
    let args = Args::parse("enos_cloud_device mqtt://HOST[:PORT] [--running VERSION] [--demo]");
    let dialect = || EnosDialect::new("pk1", "dk1").expect("short keys");
    run("enos-dk1", &args, CloudPlatform::enos("pk1", "dk1"), dialect, |image, url| {
        let digest =
            Digest { md5: Some(<[u8; 16]>::from(<md5::Md5 as md5::Digest>::digest(image))), sha256: None };
        let size = u32::try_from(image.len()).expect("small image");
        Offer::new(Version::parse("2.0.0").expect("version"), size, digest)
            .with_location(url)
            .expect("url fits")
    });
}
