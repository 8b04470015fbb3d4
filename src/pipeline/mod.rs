//! From pictures to pictures: style encoding and the multi-level stylization pipeline.

pub mod style;
pub mod stylize;

pub use style::EncodedStyle;
pub use stylize::{Stylizer, StylizerBuilder};
