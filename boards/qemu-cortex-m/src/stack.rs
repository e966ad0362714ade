//! Stack high-water marks: paint the free stack with a pattern, run a scenario, then find
//! the deepest word the pattern no longer covers.

use core::ptr::{addr_of, read_volatile, write_volatile};

const PAINT: u32 = 0x5AA5_C33C;
/// Room left below `paint`'s own stack pointer (it calls nothing that uses the stack).
const MARGIN: usize = 16;

unsafe extern "C" {
    /// Lowest address of the stack (cortex-m-rt's linker script).
    static _stack_end: u32;
    /// Highest address of the stack, where it starts.
    static _stack_start: u32;
}

fn bounds() -> (usize, usize) {
    // Only the symbols' addresses are taken: nothing is read through them here.
    (addr_of!(_stack_end) as usize, addr_of!(_stack_start) as usize)
}

/// Bytes of stack in use right now (from its top to the stack pointer).
pub fn in_use() -> u32 {
    let (_, top) = bounds();
    (top - cortex_m::register::msp::read() as usize) as u32
}

/// Paints every free stack word below the current stack pointer.
#[inline(never)]
pub fn paint() {
    let (bottom, _) = bounds();
    let limit = cortex_m::register::msp::read() as usize - MARGIN;
    let mut at = bottom;
    while at < limit {
        // SAFETY: [_stack_end, sp - MARGIN) is stack nobody uses now (no interrupts run in
        // this firmware), word-aligned as the linker script guarantees.
        unsafe { write_volatile(at as *mut u32, PAINT) };
        at += 4;
    }
}

/// The deepest the stack reached since the last [`paint`], in bytes from its top.
pub fn high_water() -> u32 {
    let (bottom, top) = bounds();
    let mut at = bottom;
    // SAFETY: reads words of the stack region, all inside RAM.
    while at < top && unsafe { read_volatile(at as *const u32) } == PAINT {
        at += 4;
    }
    (top - at) as u32
}

/// Size of the whole stack region in bytes (RAM left after statics).
pub fn capacity() -> u32 {
    let (bottom, top) = bounds();
    (top - bottom) as u32
}
