//! Memory a job will need, estimated from its sizes before it starts, against the memory the
//! process may still use; a job that cannot fit is refused ([`Error::Limits`]) instead of
//! aborting the host when an allocation fails half-way.

use super::photo::PHOTO_BYTES_PER_PIXEL;
use super::stylize::Stylizer;
use super::tiling::{encoder_halo, halo};
use crate::error::Result;
use crate::model::architecture::CHANNELS;
use crate::transform::patch_swap::FeatureMap;

/// Working memory of the network per pixel of a tile (activations of the widest layers, the
/// convolution's packed inputs and the copies candle makes): measured ~580 bytes per pixel
/// when encoding to level 3; the decoder's working set is of the same order.
pub const NETWORK_BYTES_PER_PIXEL: u64 = 700;

pub use crate::memory::{available, check};

/// Pixels of the largest extended tile of a `width × height` image with tiles of `tile` and
/// halos of `halo`.
fn tile_pixels(width: usize, height: usize, tile: usize, halo: usize) -> u64 {
    // Halos are rounded up to the pooling scale plus one feature pixel: 64 pixels cover it.
    let side = |n: usize| n.min(tile.saturating_add(2 * halo + 64));
    side(width) as u64 * side(height) as u64
}

/// Memory to encode a `width × height` style up to `top`, tile by tile.
pub fn style_estimate(width: usize, height: usize, top: usize, tile: usize) -> u64 {
    tile_pixels(width, height, tile, encoder_halo(top)) * NETWORK_BYTES_PER_PIXEL
}

impl Stylizer<'_> {
    /// Memory a run on a `width × height` image needs beyond the content itself: the
    /// result planes, one tile of network work, the masks' per-level layout (feathered:
    /// weight maps), every region's statistics, patch swap's matching of one tile and photo
    /// mode's filter planes.
    pub fn memory_estimate(&self, width: usize, height: usize) -> u64 {
        let px = width as u64 * height as u64;
        let top = self.levels.iter().copied().max().unwrap_or(1);
        let finest = self.levels.iter().copied().min().unwrap_or(1);
        let fpx = px / (1u64 << (2 * (finest - 1)));
        let mut need = 2 * 12 * px; // the level's input and output planes
        need += tile_pixels(width, height, self.tile, halo(top)) * NETWORK_BYTES_PER_PIXEL;
        let masks = self.masks.len() as u64;
        let groups = self.groups.len() as u64;
        if masks > 0 {
            need += fpx * (1 + masks); // membership and one hard mask at a time
            if self.feather > 0.0 {
                need += masks * px + 8 * px; // feathered masks (8-bit) and the blur's planes
                need += (groups + 1) * fpx * 4; // soft weights at the finest level
            }
            if self.foreground_only {
                need += 4 * px;
            }
            let c = CHANNELS[top] as u64;
            need += (groups + 1) * c * c * 8 * 3; // covariance, statistics, transform
        }
        if self.modes.patch_swap {
            // One tile's features at the coarsest level against every style's kept maps,
            // with the swapped and coloured copies of the tile's features.
            let positions = (tile_pixels(width, height, self.tile, halo(top)) / (1u64 << (2 * (top - 1)))) as usize;
            let (style_positions, channels) = super::patch_swap::style_positions(self, top);
            need += FeatureMap::working_bytes(positions, style_positions, channels);
            need += 2 * 4 * (positions * channels) as u64;
        }
        if self.modes.photo {
            need += PHOTO_BYTES_PER_PIXEL * px;
        }
        need
    }

    /// Refuses the run when its [`Stylizer::memory_estimate`] cannot fit.
    pub(crate) fn check_memory(&self, width: usize, height: usize) -> Result<()> {
        check(&format!("a {width}×{height} job"), self.memory_estimate(width, height))
    }
}
