//! A golden case rendered through the library (the Rust API the CLI and the C ABI sit on),
//! on any model's device and at any precision: what tests/golden.rs checks on the CPU and
//! tests/gpu.rs on a GPU.

use unistyle::{image_io::load_picture, EncodedStyle, Mask, Model, Picture, Precision, Silent, Stylizer, Texture};

use super::{image, Case};

/// A golden case's input picture.
pub fn input(rel: &Option<String>) -> Picture {
    load_picture(&image(rel.as_deref().expect("case input")), "golden input").unwrap()
}

/// Golden case `c` through the library on `model` at `precision`: its planar RGB output.
pub fn library_output(model: &Model, c: &Case, precision: Precision) -> Vec<f32> {
    let m = model;
    let levels = c.level_list();
    let encode = |p: &Picture| EncodedStyle::encode(m, p, &levels).unwrap();
    if c.mode == "texture" {
        let style = encode(&input(&c.style));
        let texture = Texture::builder(m)
            .style(&style)
            .init(input(&c.init))
            .iterations(c.iterations.unwrap())
            .precision(precision);
        return texture.levels(levels.clone()).build().unwrap().run(&mut Silent).unwrap().rgb;
    }
    let content = input(&c.content);
    let (style, alpha) = match c.mode.as_str() {
        "reconstruct" => (encode(&content), 0.0),
        _ => (encode(&input(&c.style)), c.alpha.unwrap()),
    };
    let style1 = c.style1.as_ref().map(|_| encode(&input(&c.style1)));
    let builder = Stylizer::builder(m).levels(levels.clone()).alpha(alpha).precision(precision);
    let builder = match (c.mode.as_str(), &style1) {
        ("interpolate", Some(other)) => {
            let beta = c.beta.unwrap();
            builder.weighted_style(&style, beta).weighted_style(other, 1.0 - beta)
        }
        ("mask", Some(other)) => {
            builder.region(Mask::load(&image(c.mask.as_deref().unwrap())).unwrap(), &style).style(other)
        }
        _ => builder.style(&style),
    };
    builder.build().unwrap().run(&content, &mut Silent).unwrap().rgb
}
