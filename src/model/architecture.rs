//! The `wct-vgg19/1` architecture as data: which convolutions the encoder trunk and each
//! decoder run, with their channel counts. Encoder and decoders are built from these plans,
//! and the weights loader checks files against them.

/// Highest level of the model (relu5_1).
pub const MAX_LEVEL: usize = 5;

/// Channels of the `relu{k}_1` features; index 0 is the RGB image.
pub const CHANNELS: [usize; MAX_LEVEL + 1] = [3, 64, 128, 256, 512, 512];

/// Number of convolutions in VGG-19 block `k` (conv k_1 … conv k_n); block 5 is cut after conv5_1.
const BLOCK_CONVS: [usize; MAX_LEVEL + 1] = [0, 2, 2, 4, 4, 1];

/// One convolution of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvSpec {
    /// Tensor name below the network prefix, e.g. `conv3_1`.
    pub name: String,
    /// Input channels.
    pub in_channels: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Followed by ReLU (every conv but the decoders' last one).
    pub relu: bool,
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Reflection-padded 3×3 convolution (+ bias, ReLU as the spec says).
    Conv(ConvSpec),
    /// 2×2 max-pool, stride 2, ceil mode.
    Pool,
    /// Nearest-neighbour 2× upsampling.
    Up,
    /// The encoder's output for this level (`relu{k}_1`).
    Tap(usize),
}

fn conv(block: usize, index: usize, cin: usize, cout: usize, relu: bool) -> Step {
    Step::Conv(ConvSpec { name: format!("conv{block}_{index}"), in_channels: cin, out_channels: cout, relu })
}

/// The steps the encoder runs to go from `relu{level-1}_1` (or the RGB image for level 1)
/// to `relu{level}_1`, ending with the level's tap.
pub fn encoder_segment(level: usize) -> Vec<Step> {
    let mut steps = Vec::new();
    if level > 1 {
        let prev = level - 1;
        let c = CHANNELS[prev];
        for i in 2..=BLOCK_CONVS[prev] {
            steps.push(conv(prev, i, c, c, true));
        }
        steps.push(Step::Pool);
    }
    steps.push(conv(level, 1, CHANNELS[level - 1], CHANNELS[level], true));
    steps.push(Step::Tap(level));
    steps
}

/// The steps of decoder `level`, from `relu{level}_1` features back to RGB.
pub fn decoder_plan(level: usize) -> Vec<Step> {
    let mut steps = Vec::new();
    for j in (1..=level).rev() {
        steps.push(conv(j, 1, CHANNELS[j], CHANNELS[j - 1], j > 1));
        if j > 1 {
            steps.push(Step::Up);
            let c = CHANNELS[j - 1];
            for i in (2..=BLOCK_CONVS[j - 1]).rev() {
                steps.push(conv(j - 1, i, c, c, true));
            }
        }
    }
    steps
}

/// Every tensor (name, shape) the encoder trunk up to `level` needs, with prefix `encoder.`.
pub fn encoder_tensors(level: usize) -> Vec<(String, Vec<usize>)> {
    let mut out =
        vec![("encoder.conv0.weight".to_string(), vec![3, 3, 1, 1]), ("encoder.conv0.bias".to_string(), vec![3])];
    for l in 1..=level {
        out.extend(conv_tensors("encoder", &encoder_segment(l)));
    }
    out
}

/// Every tensor (name, shape) decoder `level` needs, with prefix `decoder{level}.`.
pub fn decoder_tensors(level: usize) -> Vec<(String, Vec<usize>)> {
    conv_tensors(&format!("decoder{level}"), &decoder_plan(level))
}

fn conv_tensors(prefix: &str, steps: &[Step]) -> Vec<(String, Vec<usize>)> {
    steps
        .iter()
        .filter_map(|s| match s {
            Step::Conv(c) => Some(c),
            _ => None,
        })
        .flat_map(|c| {
            [
                (format!("{prefix}.{}.weight", c.name), vec![c.out_channels, c.in_channels, 3, 3]),
                (format!("{prefix}.{}.bias", c.name), vec![c.out_channels]),
            ]
        })
        .collect()
}

/// Multiply-add FLOPs (2 per MAC) of the 3×3 convolutions of `steps` on an input of
/// `height × width` samples (ceil-mode pooling, 2× upsampling).
pub fn conv_flops(steps: &[Step], height: usize, width: usize) -> f64 {
    let (mut h, mut w) = (height, width);
    let mut flops = 0.0;
    for s in steps {
        match s {
            Step::Conv(c) => flops += 2.0 * 9.0 * (c.in_channels * c.out_channels * h * w) as f64,
            Step::Pool => (h, w) = (h.div_ceil(2), w.div_ceil(2)),
            Step::Up => (h, w) = (2 * h, 2 * w),
            Step::Tap(_) => {}
        }
    }
    flops
}

/// FLOPs of encoding a `height × width` image up to `level`.
pub fn encoder_flops(level: usize, height: usize, width: usize) -> f64 {
    let enc: Vec<Step> = (1..=level).flat_map(encoder_segment).collect();
    conv_flops(&enc, height, width)
}

/// FLOPs of one WCT level on a `height × width` image: encode to `level`, decode back.
pub fn level_flops(level: usize, height: usize, width: usize) -> f64 {
    let s = 1usize << (level - 1);
    encoder_flops(level, height, width) + conv_flops(&decoder_plan(level), height.div_ceil(s), width.div_ceil(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(steps: &[Step]) -> Vec<String> {
        steps
            .iter()
            .map(|s| match s {
                Step::Conv(c) => format!("{}:{}>{}", c.name, c.in_channels, c.out_channels),
                Step::Pool => "pool".into(),
                Step::Up => "up".into(),
                Step::Tap(k) => format!("tap{k}"),
            })
            .collect()
    }

    #[test]
    fn decoder3_matches_layout_doc() {
        assert_eq!(
            names(&decoder_plan(3)),
            ["conv3_1:256>128", "up", "conv2_2:128>128", "conv2_1:128>64", "up", "conv1_2:64>64", "conv1_1:64>3"]
        );
    }

    #[test]
    fn decoder5_matches_layout_doc() {
        let n = names(&decoder_plan(5));
        assert_eq!(
            &n[..7],
            ["conv5_1:512>512", "up", "conv4_4:512>512", "conv4_3:512>512", "conv4_2:512>512", "conv4_1:512>256", "up"]
        );
        assert_eq!(n[7..], names(&decoder_plan(4))[2..]);
    }

    #[test]
    fn encoder_segments() {
        assert_eq!(names(&encoder_segment(1)), ["conv1_1:3>64", "tap1"]);
        assert_eq!(
            names(&encoder_segment(4)),
            ["conv3_2:256>256", "conv3_3:256>256", "conv3_4:256>256", "pool", "conv4_1:256>512", "tap4"]
        );
        assert_eq!(
            names(&encoder_segment(5)),
            ["conv4_2:512>512", "conv4_3:512>512", "conv4_4:512>512", "pool", "conv5_1:512>512", "tap5"]
        );
    }

    #[test]
    fn three_level_pipeline_at_512_is_about_238_gflop() {
        // content: three levels; style: encoded once to relu3_1
        let total: f64 = (1..=3).map(|l| level_flops(l, 512, 512)).sum::<f64>() + encoder_flops(3, 512, 512);
        assert!((total / 1e9 - 238.0).abs() < 5.0, "{} GFLOP", total / 1e9);
    }

    #[test]
    fn relu3_file_tensor_count() {
        // 2 (conv0) + 2*5 encoder convs + decoders 1..3 with 1, 3, 5 convs
        let n = encoder_tensors(3).len() + (1..=3).map(|k| decoder_tensors(k).len()).sum::<usize>();
        assert_eq!(n, 12 + 18);
    }
}
