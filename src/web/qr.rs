//! QR codes drawn on the server as SVG (the `qrcode` crate), so a page can
//! show one without JavaScript or an image request.

use qrcode::render::svg;
use qrcode::QrCode;

use crate::domain::error::{AppError, AppResult};

/// `text` as an SVG QR code, at least 220 pixels wide, dark on light.
pub fn svg(text: &str) -> AppResult<String> {
    let code = QrCode::new(text.as_bytes()).map_err(AppError::internal)?;
    Ok(code
        .render::<svg::Color<'_>>()
        .min_dimensions(220, 220)
        .dark_color(svg::Color("#111111"))
        .light_color(svg::Color("#ffffff"))
        .build())
}
