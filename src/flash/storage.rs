//! [`Storage`]: the one or two flash devices a device's partitions live on.
//!
//! The state partition and the primary slot live on the primary device (usually the MCU's
//! internal flash); the secondary slot may live on the same device or on a second one (an
//! external SPI NOR is common). Library code borrows one device at a time through this trait,
//! so a single chip can serve every partition without aliasing `&mut`.

use embedded_storage::nor_flash::NorFlash;

/// The flash devices of a layout.
pub trait Storage {
    /// The device holding the state partition and the primary slot.
    type Primary: NorFlash;
    /// The device holding the secondary slot (the same type as `Primary` on one-chip devices).
    type Secondary: NorFlash;
    /// True when both are the same device, so that partitions on them must not overlap.
    const ONE_DEVICE: bool = false;
    /// Borrows the primary device.
    fn primary(&mut self) -> &mut Self::Primary;
    /// Borrows the secondary device.
    fn secondary(&mut self) -> &mut Self::Secondary;
}

/// One chip holds everything.
///
/// ```
/// # #[cfg(feature = "mock")] {
/// use ota_client::flash::{OneFlash, Storage};
/// use ota_client::mock::SimFlash;
/// let mut storage = OneFlash(SimFlash::<4, 4096>::new(64 * 1024, 0xFF));
/// let _same: &mut SimFlash<4, 4096> = storage.secondary();
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct OneFlash<F>(pub F);

impl<F: NorFlash> Storage for OneFlash<F> {
    type Primary = F;
    type Secondary = F;
    const ONE_DEVICE: bool = true;
    fn primary(&mut self) -> &mut F {
        &mut self.0
    }
    fn secondary(&mut self) -> &mut F {
        &mut self.0
    }
}

/// Two chips: internal flash for state and the primary slot, another for the secondary slot.
#[derive(Debug, Clone)]
pub struct TwoFlashes<P, S> {
    /// State partition and primary slot.
    pub primary: P,
    /// Secondary slot.
    pub secondary: S,
}

impl<P: NorFlash, S: NorFlash> Storage for TwoFlashes<P, S> {
    type Primary = P;
    type Secondary = S;
    fn primary(&mut self) -> &mut P {
        &mut self.primary
    }
    fn secondary(&mut self) -> &mut S {
        &mut self.secondary
    }
}

impl<T: Storage + ?Sized> Storage for &mut T {
    type Primary = T::Primary;
    type Secondary = T::Secondary;
    const ONE_DEVICE: bool = T::ONE_DEVICE;
    fn primary(&mut self) -> &mut T::Primary {
        (**self).primary()
    }
    fn secondary(&mut self) -> &mut T::Secondary {
        (**self).secondary()
    }
}
