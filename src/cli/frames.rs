//! `unistyle frames --in DIR|PATTERN --out DIR`: an image sequence stylized as one clip.

use std::path::PathBuf;

use unistyle::pipeline::DEFAULT_STABILITY;
use unistyle::{image_io, Clip, Error, Progress, Result};

use super::args::check_output_not_input;
use super::progress_bar::Bar;
use super::stylize::StylizeOptions;

#[derive(Debug, clap::Args)]
pub struct FramesArgs {
    /// The frames: a folder (every png/jpg/tif/bmp/webp in it) or a pattern such as
    /// 'frames/*.png' (wildcards * and ? in the file name); taken in natural order (f2
    /// before f10).
    #[arg(long = "in", value_name = "DIR|PATTERN")]
    pub input: String,
    /// Folder the stylized frames are written to, each under its input's file name (created
    /// if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Temporal stability 0..1: 0 styles every frame on its own (exactly as `stylize`);
    /// higher values smooth the content statistics over frames and carry the previous
    /// result where the content did not change.
    #[arg(long, value_name = "0..1", default_value_t = DEFAULT_STABILITY)]
    pub stability: f64,
    #[command(flatten)]
    pub options: StylizeOptions,
}

pub fn run(a: FramesArgs) -> Result<()> {
    let o = &a.options;
    Error::check_range("--stability", a.stability, 0.0, 1.0)?;
    let (preset, job) = o.job()?;
    let frames = super::sequence::frames(&a.input)?;
    let outputs: Vec<PathBuf> =
        frames.iter().map(|f| a.out.join(f.file_name().expect("listed files have names"))).collect();
    let mut inputs: Vec<&std::path::Path> = frames.iter().map(|p| p.as_path()).collect();
    inputs.extend(o.inputs(&job));
    for out in &outputs {
        check_output_not_input(out, &inputs)?;
    }
    std::fs::create_dir_all(&a.out).map_err(|source| Error::Io {
        what: "output folder",
        path: a.out.clone(),
        source,
    })?;
    // Every output must be writable before anything is stylized.
    for out in &outputs {
        image_io::check_output(out)?;
    }
    o.with_stylizer(preset.as_ref(), &job, |stylizer| {
        let mut clip = Clip::new(stylizer, a.stability)?;
        let total = frames.len();
        let mut bar = Bar::new("stylizing", o.model.quiet);
        for (i, (input, out)) in frames.iter().zip(&outputs).enumerate() {
            bar.set_message(&format!("frame {}/{total}", i + 1));
            let mut frame = image_io::load_picture(input, "frame")?;
            if let Some(m) = job.max_size {
                frame = frame.fit_within(m);
            }
            let mut within = |f: f32| bar.report((i as f32 + f) / total as f32);
            let result = clip.push(&frame, &mut within)?;
            image_io::save_picture_unless(&result, out, &|| !super::interrupt::keep_going())?;
        }
        bar.finish();
        if !o.model.quiet {
            println!("{total} frames written to '{}'", a.out.display());
        }
        Ok(())
    })
}
