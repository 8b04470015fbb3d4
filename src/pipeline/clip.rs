//! A clip: an ordered sequence of frames stylized as one, with a temporal stabilizer.
//!
//! The frames go through the same [`Stylizer`] (so every option — masks, modes, seed,
//! precision, levels, alpha, colour preservation — applies to each frame, the styles are
//! encoded once and the variation's seed is the clip's). With `stability` > 0, two things
//! tie consecutive frames together:
//! - the content statistics each level whitens with are moving averages over the frames,
//!   with regularised eigenvalues ([`crate::transform::temporal`]), so the feature map cannot
//!   jump from one frame to the next;
//! - the previous result, moved by the global motion between the frames, is blended in where
//!   the content did not change ([`super::carry`]).
//!
//! Stability 0 runs every frame as [`Stylizer::run`] does, bit for bit.

use super::carry::{blend_previous, estimate_shift, luma, Previous};
use super::stylize::Stylizer;
use crate::error::{Error, Result};
use crate::image_io::Picture;
use crate::progress::Progress;
use crate::transform::temporal::MomentSmoother;

pub use crate::rules::DEFAULT_STABILITY;

/// Largest weight the previous result gets (at stability 1), where the content is unchanged.
pub const CARRY_AT_FULL_STABILITY: f64 = 0.9;

/// A clip being stylized frame by frame: [`Clip::push`] each frame in order.
#[derive(Debug, Clone)]
pub struct Clip<'a> {
    stylizer: Stylizer<'a>,
    state: Stabilizer,
}

impl<'a> Clip<'a> {
    /// A clip stylized by `stylizer` with `stability` in 0..=1 (0: independent frames,
    /// exactly [`Stylizer::run`]; see [`DEFAULT_STABILITY`]).
    pub fn new(stylizer: Stylizer<'a>, stability: f64) -> Result<Self> {
        Ok(Self { stylizer, state: Stabilizer::new(stability)? })
    }

    /// The stability this clip was made with.
    pub fn stability(&self) -> f64 {
        self.state.stability
    }

    /// Frames stylized so far.
    pub fn frames(&self) -> usize {
        self.state.frames()
    }

    /// How often the statistics' averages restarted because the content changed at once (a
    /// cut), summed over levels and regions.
    pub fn scene_cuts(&self) -> usize {
        self.state.smoother.scene_cuts()
    }

    /// The stylizer every frame goes through.
    pub fn stylizer(&self) -> &Stylizer<'a> {
        &self.stylizer
    }

    /// Stylizes the next frame. Progress runs 0..1 within the frame and cancel is honoured
    /// as in [`Stylizer::run`]; a failed or cancelled frame leaves the clip as it was, so the
    /// frame can be pushed again. Frames may change size (the result is then not blended
    /// with the previous one).
    pub fn push(&mut self, frame: &Picture, progress: &mut dyn Progress) -> Result<Picture> {
        self.state.push(&self.stylizer, frame, progress)
    }
}

/// What a clip remembers between frames, apart from its stylizer (the C ABI rebuilds the
/// stylizer per frame from the options it owns).
#[derive(Debug, Clone)]
pub(crate) struct Stabilizer {
    stability: f64,
    smoother: MomentSmoother,
    previous: Option<Previous>,
    frames: usize,
}

impl Stabilizer {
    pub fn new(stability: f64) -> Result<Self> {
        let smoother = MomentSmoother::new(stability)?;
        Ok(Self { stability, smoother, previous: None, frames: 0 })
    }

    /// Frames stylized so far.
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// [`Clip::push`] with the clip's stylizer.
    pub fn push(&mut self, stylizer: &Stylizer, frame: &Picture, progress: &mut dyn Progress) -> Result<Picture> {
        if self.stability == 0.0 {
            let out = stylizer.run(frame, progress)?;
            self.frames += 1;
            return Ok(out);
        }
        // The averages are updated on a copy and kept only when the frame succeeds.
        let mut smoother = self.smoother.clone();
        let (mut out, _) = stylizer.run_passes(frame, 1, progress, Some(&mut smoother))?;
        let lightness = luma(frame);
        if let Some(prev) = self.previous.as_ref().filter(|p| (p.width, p.height) == (frame.width, frame.height)) {
            if let Some(shift) = estimate_shift(&prev.luma, &lightness, frame.width, frame.height) {
                let strength = (self.stability * CARRY_AT_FULL_STABILITY) as f32;
                blend_previous(&mut out.rgb, &lightness, prev, shift, strength);
            }
        }
        if out.rgb.iter().any(|v| !v.is_finite()) {
            return Err(Error::Linalg { what: "clip frame".into(), reason: "the result holds NaN".into() });
        }
        self.smoother = smoother;
        self.previous = Some(Previous { width: out.width, height: out.height, luma: lightness, rgb: out.rgb.clone() });
        self.frames += 1;
        Ok(out)
    }
}
