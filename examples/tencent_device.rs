//! A Tencent IoT Hub device on the host: it connects to the broker given on the command
//! line, reports its version on `$ota/report/PRODUCT1/dev1`, takes `update_firmware` offers
//! from `$ota/update/PRODUCT1/dev1`, downloads over HTTP into a simulated flash with
//! `downloading` / `burning` progress reports, reboots (simulated), confirms the new image
//! and reports `done` (or `fail` with result code −1..−5).
//!
//! ```text
//! cargo run --example tencent_device -- mqtt://HOST[:PORT] [--running 1.0.0] [--demo]
//! ```
//!
//! Try it in one command with a local broker and the mock cloud (which offers a 128 KiB
//! image from a mock HTTP server and checks every report against the Tencent format):
//!
//! ```text
//! apt-get install -y mosquitto          # Debian/Ubuntu
//! mosquitto -p 1883 &
//! cargo run --example tencent_device -- mqtt://127.0.0.1:1883 --demo
//! ```
//!
//! Or be the cloud yourself: serve a file (`python3 -m http.server 8000` in its directory),
//! run the device without `--demo`, watch its reports with
//! `mosquitto_sub -t '$ota/report/#' -v`, and offer the file:
//!
//! ```text
//! mosquitto_pub -t '$ota/update/PRODUCT1/dev1' -q 1 -m '{"type":"update_firmware",
//!   "version":"2.0.0","url":"http://127.0.0.1:8000/fw.bin","file_size":SIZE,"md5sum":"MD5HEX"}'
//! ```

mod device_host;

use device_host::{Args, run};
use ota_client::mock::mqtt_cloud::CloudPlatform;
use ota_client::platform::flow::TencentDialect;
use ota_client::{Digest, Offer, Version};

fn main() {
    let args = Args::parse("tencent_device mqtt://HOST[:PORT] [--running VERSION] [--demo]");
    let dialect = || TencentDialect::new("PRODUCT1", "dev1").expect("short ids");
    run("tencent-dev1", &args, CloudPlatform::tencent("PRODUCT1", "dev1"), dialect, |image, url| {
        let digest =
            Digest { md5: Some(<[u8; 16]>::from(<md5::Md5 as md5::Digest>::digest(image))), sha256: None };
        let size = u32::try_from(image.len()).expect("small image");
        Offer::new(Version::parse("2.0.0").expect("version"), size, digest)
            .with_location(url)
            .expect("url fits")
    });
}
