//! A scripted Huawei PCP platform: it notifies a package, answers block requests, download
//! status and upgrade result, asks for the upgrade, and records everything the device sent.
//! Frames travel whole (as over an LwM2M resource); the test moves them.
//!
//! Faults on demand: every n-th block answer lost, or sent with a corrupted check code.

use std::collections::VecDeque;

use crate::platform::huawei_pcp::codec::{
    DeviceMessage, PlatformMessage, Task, VERSION_LEN, result, version_field, version_text,
};

/// A package the platform offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PcpPackage {
    /// Version text (at most 16 bytes).
    pub version: String,
    /// Bytes per block (PCP: 32..=500).
    pub block_size: u16,
    /// The package.
    pub data: Vec<u8>,
    /// The check code the platform announces for the package.
    pub check_code: u16,
}

impl PcpPackage {
    /// The task message 20 announces; `None` when the version text is longer than 16 bytes
    /// or the package has more than 65,535 blocks.
    pub fn task(&self) -> Option<Task> {
        let size = usize::from(self.block_size.max(1));
        let block_count = u16::try_from(self.data.len().div_ceil(size)).ok()?;
        Some(Task {
            version: version_field(&self.version)?,
            block_size: self.block_size,
            block_count,
            check_code: self.check_code,
        })
    }

    fn block(&self, n: u16) -> Option<&[u8]> {
        let size = usize::from(self.block_size);
        let start = usize::from(n).checked_mul(size)?;
        if start >= self.data.len() {
            return None;
        }
        self.data.get(start..start.saturating_add(size).min(self.data.len()))
    }
}

/// What the platform heard from the device.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PcpRecord {
    /// Versions the device answered to a query (19).
    pub versions: Vec<String>,
    /// Answers to new-version notifications (20).
    pub notify_answers: Vec<u8>,
    /// Block numbers requested (21), in order, repeats included.
    pub requests: Vec<u16>,
    /// Download statuses reported (22).
    pub statuses: Vec<u8>,
    /// Answers to execute-upgrade (23).
    pub execute_answers: Vec<u8>,
    /// Upgrade results reported (24), with the version the device then ran.
    pub results: Vec<(u8, String)>,
    /// Device frames that did not parse.
    pub bad_frames: u32,
}

/// The scripted platform.
#[derive(Debug, Clone, Default)]
pub struct PcpPlatform {
    package: Option<PcpPackage>,
    outbox: VecDeque<Vec<u8>>,
    record: PcpRecord,
    execute_after_status: bool,
    drop_every: u32,
    corrupt_every: u32,
    answers: u32,
}

impl PcpPlatform {
    /// A platform offering `package` (or nothing).
    pub fn new(package: Option<PcpPackage>) -> Self {
        Self { package, ..Self::default() }
    }

    /// Sends execute-upgrade (23) as soon as a download status 0 has been acknowledged.
    pub fn execute_after_status(mut self) -> Self {
        self.execute_after_status = true;
        self
    }

    /// Loses every `drop_every`-th block answer and corrupts the check code of every
    /// `corrupt_every`-th one (0: never).
    pub fn with_faults(mut self, drop_every: u32, corrupt_every: u32) -> Self {
        self.drop_every = drop_every;
        self.corrupt_every = corrupt_every;
        self
    }

    /// Replaces the package (a new version or a rebuilt one).
    pub fn set_package(&mut self, package: Option<PcpPackage>) {
        self.package = package;
    }

    /// What the device sent so far.
    pub fn record(&self) -> &PcpRecord {
        &self.record
    }

    /// Queues a new-version notification (20) for the package.
    pub fn notify(&mut self) {
        if let Some(task) = self.package.as_ref().and_then(PcpPackage::task) {
            self.send(&PlatformMessage::NewVersion(task));
        }
    }

    /// Queues a version query (19).
    pub fn query_version(&mut self) {
        self.send(&PlatformMessage::QueryVersion);
    }

    /// Queues execute-upgrade (23).
    pub fn execute(&mut self) {
        self.send(&PlatformMessage::ExecuteUpgrade);
    }

    /// The frames for the device, oldest first.
    pub fn take_frames(&mut self) -> Vec<Vec<u8>> {
        self.outbox.drain(..).collect()
    }

    fn send(&mut self, msg: &PlatformMessage<'_>) {
        let mut out = vec![0u8; 600];
        if let Ok(n) = msg.emit(&mut out) {
            out.truncate(n);
            self.outbox.push_back(out);
        }
    }

    /// Takes one frame from the device and queues the answer.
    pub fn receive(&mut self, frame: &[u8]) {
        let Ok(msg) = DeviceMessage::parse(frame) else {
            self.record.bad_frames += 1;
            return;
        };
        match msg {
            DeviceMessage::Version { version, .. } => self.record.versions.push(text(&version)),
            DeviceMessage::NewVersionAnswer { result } => self.record.notify_answers.push(result),
            DeviceMessage::RequestBlock { version, block } => self.answer_block(version, block),
            DeviceMessage::DownloadStatus { status } => {
                self.record.statuses.push(status);
                self.send(&PlatformMessage::DownloadStatusAck { result: result::OK });
                if status == result::OK && self.execute_after_status {
                    self.execute();
                }
            }
            DeviceMessage::ExecuteAnswer { result } => self.record.execute_answers.push(result),
            DeviceMessage::UpgradeResult { result, version } => {
                self.record.results.push((result, text(&version)));
                self.send(&PlatformMessage::UpgradeResultAck { result: result::OK });
            }
        }
    }

    fn answer_block(&mut self, version: [u8; VERSION_LEN], block: u16) {
        self.record.requests.push(block);
        let package = self.package.clone();
        let Some(pkg) = package.filter(|p| version_field(&p.version) == Some(version)) else {
            self.send(&PlatformMessage::Block { result: result::NO_TASK, block, data: &[] });
            return;
        };
        let Some(data) = pkg.block(block) else {
            self.send(&PlatformMessage::Block { result: result::BAD_BLOCK, block, data: &[] });
            return;
        };
        self.answers += 1;
        if self.drop_every > 0 && self.answers.is_multiple_of(self.drop_every) {
            return;
        }
        self.send(&PlatformMessage::Block { result: result::OK, block, data });
        if self.corrupt_every > 0
            && self.answers.is_multiple_of(self.corrupt_every)
            && let Some(frame) = self.outbox.back_mut()
            && let Some(byte) = frame.get_mut(4)
        {
            *byte ^= 0x5A; // the check code's first byte
        }
    }
}

fn text(field: &[u8; VERSION_LEN]) -> String {
    version_text(field).to_owned()
}
