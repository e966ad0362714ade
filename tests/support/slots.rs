//! Writing an image straight into a slot, as a download would have, for boot tests.

use ota_client::boot::BootControl;
use ota_client::flash::Storage;
use ota_client::image::Slot;

/// Erases the sectors `bytes` needs where an image staged into `slot` lies
/// ([`Layout::staging`](ota_client::boot::Layout::staging)) and writes them, padded to the
/// write size.
pub fn write_image<S: Storage>(boot: &BootControl, storage: &mut S, slot: Slot, bytes: &[u8]) {
    let region = boot.layout().staging(slot);
    for s in 0..(bytes.len() as u32).div_ceil(region.part.erase_size()) {
        region.erase_sector(storage, s).unwrap();
    }
    let w = region.part.write_size() as usize;
    let mut padded = bytes.to_vec();
    padded.resize(bytes.len().div_ceil(w) * w, 0xFF);
    region.write(storage, 0, &padded).unwrap();
}
