//! [`SharedFlash`]: one [`SimFlash`] that the device under test owns and the test still
//! sees.
//!
//! The [`Agent`](crate::agent::Agent) owns its flash. A test that wants to look at the slots,
//! count writes or arm a power cut while the Agent holds the flash gives the Agent one handle
//! and keeps a clone: each flash operation borrows the chip for that call only, so no
//! reference outlives a call and the handles never conflict.

use std::cell::{Ref, RefCell, RefMut};
use std::rc::Rc;

use embedded_storage::nor_flash::{ErrorType, NorFlash, ReadNorFlash};

use super::SimFlash;

/// A shared handle to one [`SimFlash`]; clones are the same chip.
#[derive(Debug)]
pub struct SharedFlash<const WRITE: usize, const ERASE: usize, const READ: usize = 1>(
    Rc<RefCell<SimFlash<WRITE, ERASE, READ>>>,
);

impl<const WRITE: usize, const ERASE: usize, const READ: usize> Clone for SharedFlash<WRITE, ERASE, READ> {
    fn clone(&self) -> Self {
        Self(Rc::clone(&self.0))
    }
}

impl<const WRITE: usize, const ERASE: usize, const READ: usize> SharedFlash<WRITE, ERASE, READ> {
    /// Shares `flash`.
    pub fn new(flash: SimFlash<WRITE, ERASE, READ>) -> Self {
        Self(Rc::new(RefCell::new(flash)))
    }

    /// The chip, to look at (contents, statistics).
    pub fn borrow(&self) -> Ref<'_, SimFlash<WRITE, ERASE, READ>> {
        self.0.borrow()
    }

    /// The chip, to change (arm a power cut, reset statistics, place bytes).
    pub fn borrow_mut(&self) -> RefMut<'_, SimFlash<WRITE, ERASE, READ>> {
        self.0.borrow_mut()
    }
}

impl<const WRITE: usize, const ERASE: usize, const READ: usize> ErrorType
    for SharedFlash<WRITE, ERASE, READ>
{
    type Error = <SimFlash<WRITE, ERASE, READ> as ErrorType>::Error;
}

impl<const WRITE: usize, const ERASE: usize, const READ: usize> ReadNorFlash
    for SharedFlash<WRITE, ERASE, READ>
{
    const READ_SIZE: usize = READ;
    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        self.0.borrow_mut().read(offset, bytes)
    }
    fn capacity(&self) -> usize {
        self.0.borrow().capacity()
    }
}

impl<const WRITE: usize, const ERASE: usize, const READ: usize> NorFlash for SharedFlash<WRITE, ERASE, READ> {
    const WRITE_SIZE: usize = WRITE;
    const ERASE_SIZE: usize = ERASE;
    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        self.0.borrow_mut().erase(from, to)
    }
    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        self.0.borrow_mut().write(offset, bytes)
    }
}
