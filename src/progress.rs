//! Progress reporting with cancellation: the pipeline reports a fraction in 0..1 and the
//! caller answers whether to go on.

/// The caller's answer to a progress report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Go on.
    Continue,
    /// Stop: the run returns [`crate::Error::Cancelled`] and writes nothing.
    Cancel,
}

/// Receives progress reports. Implemented for every `FnMut(f32) -> Control`.
pub trait Progress {
    /// `fraction` grows monotonically from 0 to 1.
    fn report(&mut self, fraction: f32) -> Control;
}

impl<F: FnMut(f32) -> Control> Progress for F {
    fn report(&mut self, fraction: f32) -> Control {
        self(fraction)
    }
}

/// A progress sink that never cancels.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Progress for Silent {
    fn report(&mut self, _fraction: f32) -> Control {
        Control::Continue
    }
}

/// A stage's share of a longer operation: reports `from + (to − from) · fraction` to `inner`.
pub struct Span<'a> {
    pub inner: &'a mut dyn Progress,
    pub from: f32,
    pub to: f32,
}

impl Progress for Span<'_> {
    fn report(&mut self, fraction: f32) -> Control {
        self.inner.report(self.from + (self.to - self.from) * fraction.clamp(0.0, 1.0))
    }
}

/// Reports `fraction` and turns a cancel answer into [`crate::Error::Cancelled`].
pub(crate) fn step(progress: &mut dyn Progress, fraction: f32) -> crate::Result<()> {
    match progress.report(fraction.clamp(0.0, 1.0)) {
        Control::Continue => Ok(()),
        Control::Cancel => Err(crate::Error::Cancelled),
    }
}
