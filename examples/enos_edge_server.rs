//! A mock EnOS Edge to run by hand: serves one firmware to one device and prints every
//! request and report.
//!
//! ```text
//! cargo run --features mock --example enos_edge_server -- [ASSET_ID] [VERSION] [FIRMWARE_FILE] [ADDR]
//! ```
//!
//! Defaults: asset `dev-1`, version `2.0.0`, a generated 256 KiB firmware (signed with the demo key), `127.0.0.1:0` (a
//! free port). Point a device at the printed base URL (all endpoints share it). Stop with
//! Ctrl-C.

use std::time::Duration;

use ota_client::mock::enos_edge_server::EnosEdgeServer;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let asset = args.next().unwrap_or_else(|| "dev-1".into());
    let version = args.next().unwrap_or_else(|| "2.0.0".into());
    let body = match args.next().filter(|f| f != "-") {
        Some(path) => std::fs::read(&path)?,
        None => (0..256 * 1024u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect(),
    };
    // Signed with the (public) demo key, as the example device requires.
    let firmware = ota_client::mock::demo_sign(&body, &version);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:0".into());

    let edge = EnosEdgeServer::start_on(&addr)?;
    let size = firmware.len();
    let md5: String =
        <md5::Md5 as md5::Digest>::digest(&firmware).iter().map(|b| format!("{b:02x}")).collect();
    let path = edge.set_firmware(&asset, &version, firmware);
    let base = edge.base_url();
    println!("mock EnOS Edge listening at {base}");
    println!("  POST {base}/checkversion    (device {asset} is offered {version})");
    println!("  GET  {base}{path}   ({size} bytes, md5 {md5}, Range supported)");
    println!("  POST {base}/downloadresult/<id>");
    println!("  POST {base}/updateresult");
    println!("Ctrl-C to stop.");

    let mut seen = 0;
    loop {
        std::thread::sleep(Duration::from_millis(200));
        let requests = edge.http().requests();
        for r in requests.iter().skip(seen) {
            let range = r.header("range").map(|v| format!(" [{v}]")).unwrap_or_default();
            let body = if r.body.is_empty() { String::new() } else { format!(" {}", r.body_text()) };
            println!("#{} {} {}{range}{body}", r.connection, r.method, r.path);
        }
        seen = requests.len();
    }
}
