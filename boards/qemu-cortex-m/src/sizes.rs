//! `size_of` of the library's main types on this 32-bit target: the RAM a device pays to
//! hold them (statics or stack), before any buffer the caller sizes.

use core::mem::size_of;
use cortex_m_semihosting::hprintln;
use ota_client::agent::Agent;
use ota_client::boot::{BootControl, BootDecision, BootState, Layout};
use ota_client::download::{Download, DownloadConfig};
use ota_client::flash::{Journal, OneFlash, Partition};
use ota_client::image::{ImageInfo, SlotRegion};
use ota_client::{Offer, Version};

use ota_board_qemu::board::Flash;

fn row(name: &str, bytes: usize) {
    hprintln!("  size_of {:<28} {:>5} B", name, bytes);
}

/// Prints one line per type.
pub fn print() {
    hprintln!("type sizes (thumbv7em, bytes):");
    row("Journal (8 kinds)", size_of::<Journal>());
    row("Journal<4>", size_of::<Journal<4>>());
    row("Partition", size_of::<Partition>());
    row("Layout", size_of::<Layout>());
    row("BootControl", size_of::<BootControl>());
    row("BootState", size_of::<BootState>());
    row("BootDecision", size_of::<BootDecision>());
    row("ImageInfo", size_of::<ImageInfo>());
    row("SlotRegion", size_of::<SlotRegion>());
    row("Version", size_of::<Version>());
    row("Offer", size_of::<Offer>());
    row("Download (engine)", size_of::<Download>());
    row("DownloadConfig", size_of::<DownloadConfig>());
    // The Agent owns its Journal and the flash handle (here a borrow of the driver).
    row(
        "Agent<&mut flash, (), 8, 64> (64-byte locations)",
        size_of::<Agent<&'static mut OneFlash<Flash>, (), 8, 64>>(),
    );
    row("Agent<&mut flash> (512-byte locations)", size_of::<Agent<&'static mut OneFlash<Flash>>>());
    row("OneFlash<RamFlash> (driver)", size_of::<OneFlash<Flash>>());
    #[cfg(feature = "drivers")]
    drivers::print();
}

/// The platform drivers, each owning an `Agent<&mut flash>` (512-byte locations), over
/// zero-sized transports: the rows are what the driver itself holds, without the network
/// stack's or the HTTP client's own state.
#[cfg(feature = "drivers")]
mod drivers {
    use core::mem::size_of;

    use ota_client::agent::Agent;
    use ota_client::flash::OneFlash;
    use ota_client::platform::enos_edge::EdgeDevice;
    use ota_client::platform::flow::{Flow, TencentDialect};
    use ota_client::platform::huawei_pcp::PcpDevice;
    use ota_client::platform::serial::SerialUpdater;
    use ota_client::time::Clock;
    use ota_client::transport::http::{HttpError, HttpSource, HttpTransport, Response};
    use ota_client::transport::mqtt::{LinkState, MqttClient, MqttError, MqttEvent, QoS};

    use super::row;
    use ota_board_qemu::board::Flash;

    type Store = &'static mut OneFlash<Flash>;
    type A = Agent<Store>;

    /// A transport with no state, for the sizes only.
    pub struct Stub;

    impl MqttClient for Stub {
        fn state(&self) -> LinkState {
            LinkState::Disconnected
        }
        fn publish(&mut self, _: &str, _: &[u8], _: QoS) -> nb::Result<(), MqttError> {
            Err(nb::Error::WouldBlock)
        }
        fn subscribe(&mut self, _: &str, _: QoS) -> nb::Result<(), MqttError> {
            Err(nb::Error::WouldBlock)
        }
        fn poll<'b>(&mut self, _: &'b mut [u8]) -> nb::Result<MqttEvent<'b>, MqttError> {
            Err(nb::Error::WouldBlock)
        }
        fn reconnect(&mut self) -> nb::Result<(), MqttError> {
            Err(nb::Error::WouldBlock)
        }
    }

    impl HttpTransport for Stub {
        fn get_range(&mut self, _: &str, _: u64, _: Option<&str>) -> Result<Response, HttpError> {
            Err(HttpError::Closed)
        }
        fn read_body(&mut self, _: &mut [u8]) -> Result<usize, HttpError> {
            Err(HttpError::Closed)
        }
        fn post_json(&mut self, _: &str, _: &[u8], _: &mut [u8]) -> Result<(u16, usize), HttpError> {
            Err(HttpError::Closed)
        }
        fn close(&mut self) {}
    }

    impl embedded_io::ErrorType for Stub {
        type Error = core::convert::Infallible;
    }
    impl embedded_io::Read for Stub {
        fn read(&mut self, _: &mut [u8]) -> Result<usize, Self::Error> {
            Ok(0)
        }
    }
    impl embedded_io::ReadReady for Stub {
        fn read_ready(&mut self) -> Result<bool, Self::Error> {
            Ok(false)
        }
    }
    impl embedded_io::Write for Stub {
        fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
            Ok(buf.len())
        }
        fn flush(&mut self) -> Result<(), Self::Error> {
            Ok(())
        }
    }
    impl Clock for Stub {
        fn now_ms(&self) -> u64 {
            0
        }
    }

    pub fn print() {
        let agent = size_of::<A>();
        let rows = [
            (
                "Flow (Tencent, HttpSource)",
                size_of::<Flow<Stub, TencentDialect, HttpSource<Stub, heapless::String<512>>, Store>>(),
            ),
            ("EdgeDevice", size_of::<EdgeDevice<Stub, Store>>()),
            ("SerialUpdater (N = 4, B = 4096)", size_of::<SerialUpdater<Stub, Stub, Store>>()),
            ("PcpDevice (500-byte blocks)", size_of::<PcpDevice<Store>>()),
        ];
        for (name, bytes) in rows {
            row(name, bytes);
            row("  of which not the Agent", bytes.saturating_sub(agent));
        }
    }
}
