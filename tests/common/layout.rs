//! The C ABI's struct layouts as Rust sees them: one list of every versioned struct and its
//! fields, checked against the C header (`tests/c_host.rs`) and against the Krita plug-in's
//! ctypes binding (`tests/krita.rs`). Adding a field to a struct means adding it here once.

use std::mem::{offset_of, size_of};

use unistyle::capi::{
    UnistyleClipOptions, UnistyleImage, UnistyleRunOptions, UnistyleStyleOptions, UnistyleStylizeOptions,
    UnistyleTextureOptions,
};

/// One struct: its C name, `sizeof`, and `(field, offsetof)` in declaration order.
pub struct StructLayout {
    pub c_name: &'static str,
    pub size: usize,
    pub fields: Vec<(&'static str, usize)>,
}

macro_rules! layout {
    ($c:literal, $t:ty, $($f:ident),+ $(,)?) => {
        StructLayout { c_name: $c, size: size_of::<$t>(), fields: vec![$((stringify!($f), offset_of!($t, $f))),+] }
    };
}

/// Every versioned struct of `plugin-abi/unistyle.h`.
pub fn abi_layouts() -> Vec<StructLayout> {
    vec![
        layout!("unistyle_image", UnistyleImage, struct_size, width, height, channels, sample_type, stride, data),
        layout!(
            "unistyle_stylize_options",
            UnistyleStylizeOptions,
            struct_size,
            style_count,
            styles,
            weights,
            mask_count,
            masks,
            level_count,
            levels,
            alpha,
            feather,
            preserve_color,
            foreground_only,
            progress,
            progress_user_data,
            job,
            patch_swap,
            transform,
            variation,
            stroke_scale,
            seed,
            photo,
            precision,
        ),
        layout!(
            "unistyle_texture_options",
            UnistyleTextureOptions,
            struct_size,
            style_count,
            styles,
            weights,
            mask_count,
            masks,
            level_count,
            levels,
            seed,
            iterations,
            tileable,
            feather,
            progress,
            progress_user_data,
            job,
            init,
            precision,
        ),
        layout!("unistyle_run_options", UnistyleRunOptions, struct_size, progress, progress_user_data, job),
        layout!(
            "unistyle_style_options",
            UnistyleStyleOptions,
            struct_size,
            max_size,
            progress,
            progress_user_data,
            job
        ),
        layout!("unistyle_clip_options", UnistyleClipOptions, struct_size, stability),
    ]
}
