//! A report as an Excel workbook (rust_xlsxwriter): a sheet per table, with native Excel
//! charts over the sheets' own cells, so a reader can restyle or extend them in Excel.

use super::{Report, Volume, count};
use rust_xlsxwriter::{Chart, ChartType, Format, Workbook, Worksheet, XlsxError};

fn head(ws: &mut Worksheet, row: u32, cols: &[&str], bold: &Format) -> Result<(), XlsxError> {
    for (i, c) in cols.iter().enumerate() {
        ws.write_with_format(row, i as u16, *c, bold)?;
    }
    Ok(())
}

/// A sheet of volumes (name, this period, previous, change) with a column chart.
fn volume_sheet(wb: &mut Workbook, name: &str, rows: &[Volume], bold: &Format, pct: &Format) -> Result<(), XlsxError> {
    let ws = wb.add_worksheet();
    ws.set_name(name)?;
    ws.set_column_width(0, 22)?;
    head(ws, 0, &["名称", "本期受理", "上期受理", "变化"], bold)?;
    for (i, v) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        ws.write(r, 0, v.name.as_str())?;
        ws.write(r, 1, v.count as f64)?;
        ws.write(r, 2, v.previous as f64)?;
        if let Some(c) = v.change() {
            ws.write_with_format(r, 3, c, pct)?;
        }
    }
    if !rows.is_empty() {
        let last = rows.len().min(12) as u32;
        let mut chart = Chart::new(ChartType::Column);
        chart.title().set_name(&format!("{name}：本期与上期受理量"));
        chart.add_series().set_name("本期").set_categories((name, 1, 0, last, 0)).set_values((name, 1, 1, last, 1));
        chart.add_series().set_name("上期").set_categories((name, 1, 0, last, 0)).set_values((name, 1, 2, last, 2));
        ws.insert_chart(1, 5, &chart)?;
    }
    Ok(())
}

/// The workbook's bytes.
pub fn workbook(r: &Report) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let pct = Format::new().set_num_format("0.0%");
    let wrap = Format::new().set_text_wrap();
    {
        let ws = wb.add_worksheet();
        ws.set_name("概要")?;
        ws.set_column_width(0, 18)?;
        ws.set_column_width(1, 90)?;
        ws.write_with_format(
            0,
            0,
            format!("{} · {} · 12345热线{}", r.scope, r.period.title(), r.period.kind_name()),
            &bold,
        )?;
        ws.write(1, 0, "生成时间")?;
        ws.write(1, 1, r.generated.as_str())?;
        ws.write(2, 0, "摘要")?;
        ws.write_with_format(2, 1, r.summary.as_str(), &wrap)?;
        ws.set_row_height(2, 150)?;
        let rows: [(&str, Option<f64>); 6] = [
            ("按时办结率", r.kpis.on_time_rate),
            ("满意率", r.kpis.satisfaction_rate),
            ("解决率", r.kpis.resolution_rate),
            ("办结率", r.kpis.completion_rate),
            ("退单率", r.kpis.return_rate),
            ("直接办结率", r.kpis.first_contact_resolution_rate),
        ];
        ws.write_with_format(4, 0, "受理量", &bold)?;
        ws.write(4, 1, r.total.count as f64)?;
        ws.write(5, 0, "上期受理量")?;
        ws.write(5, 1, r.total.previous as f64)?;
        for (i, (label, v)) in rows.iter().enumerate() {
            let row = 6 + i as u32;
            ws.write(row, 0, *label)?;
            if let Some(v) = v {
                ws.write_with_format(row, 1, *v, &pct)?;
            }
        }
    }
    volume_sheet(&mut wb, "诉求类型", &r.types, &bold, &pct)?;
    volume_sheet(&mut wb, "分类", &r.categories, &bold, &pct)?;
    volume_sheet(&mut wb, "各区", &r.districts, &bold, &pct)?;
    {
        let ws = wb.add_worksheet();
        ws.set_name("单位")?;
        ws.set_column_width(0, 26)?;
        head(
            ws,
            0,
            &["主办单位", "受理", "派单", "答复", "按时办结率", "满意率", "解决率", "退单率", "平均办理时长（小时）"],
            &bold,
        )?;
        for (i, u) in r.units.iter().enumerate() {
            let row = i as u32 + 1;
            ws.write(row, 0, u.name.as_str())?;
            ws.write(row, 1, count(&u.kpis, "registered") as f64)?;
            ws.write(row, 2, count(&u.kpis, "dispatched") as f64)?;
            ws.write(row, 3, count(&u.kpis, "replied") as f64)?;
            for (col, v) in [
                (4u16, u.kpis.on_time_rate),
                (5, u.kpis.satisfaction_rate),
                (6, u.kpis.resolution_rate),
                (7, u.kpis.return_rate),
            ] {
                if let Some(v) = v {
                    ws.write_with_format(row, col, v, &pct)?;
                }
            }
            if let Some(h) = u.kpis.avg_handling_hours {
                ws.write(row, 8, (h * 10.0).round() / 10.0)?;
            }
        }
    }
    {
        let ws = wb.add_worksheet();
        ws.set_name("考核排名")?;
        ws.set_column_width(1, 26)?;
        head(ws, 0, &["名次", "单位", "得分", "按时办结率", "满意率", "解决率"], &bold)?;
        for (i, u) in r.ranking.iter().enumerate() {
            let row = i as u32 + 1;
            ws.write(row, 0, u.rank as f64)?;
            ws.write(row, 1, u.name.as_deref().unwrap_or(&u.unit))?;
            ws.write(row, 2, (u.score * 10.0).round() / 10.0)?;
            for (col, v) in [(3u16, u.kpis.on_time_rate), (4, u.kpis.satisfaction_rate), (5, u.kpis.resolution_rate)] {
                if let Some(v) = v {
                    ws.write_with_format(row, col, v, &pct)?;
                }
            }
        }
        if !r.ranking.is_empty() {
            let last = r.ranking.len().min(15) as u32;
            let mut chart = Chart::new(ChartType::Bar);
            chart.title().set_name("考核得分");
            chart.add_series().set_name("得分").set_categories(("考核排名", 1, 1, last, 1)).set_values((
                "考核排名",
                1,
                2,
                last,
                2,
            ));
            ws.insert_chart(1, 7, &chart)?;
        }
    }
    {
        let ws = wb.add_worksheet();
        ws.set_name("热点")?;
        ws.set_column_width(0, 20)?;
        ws.set_column_width(1, 20)?;
        head(ws, 0, &["街道", "分类", "受理", "基线（前四期平均）", "新兴热点"], &bold)?;
        for (i, h) in r.hotspots.iter().enumerate() {
            let row = i as u32 + 1;
            ws.write(row, 0, h.place_name.as_deref().unwrap_or(&h.place))?;
            ws.write(row, 1, h.category_name.as_deref().unwrap_or(&h.category))?;
            ws.write(row, 2, h.count as f64)?;
            ws.write(row, 3, h.baseline)?;
            ws.write(row, 4, if h.emerging { "是" } else { "" })?;
        }
    }
    {
        let ws = wb.add_worksheet();
        ws.set_name("疑难问题")?;
        ws.set_column_width(0, 36)?;
        head(ws, 0, &["问题", "地点", "分类", "状态", "任务数", "已完成", "逾期任务", "立项", "办结"], &bold)?;
        for (i, p) in r.problems.iter().enumerate() {
            let row = i as u32 + 1;
            ws.write(row, 0, p.title.as_str())?;
            ws.write(row, 1, p.place.as_str())?;
            ws.write(row, 2, p.category.as_str())?;
            ws.write(row, 3, p.status.as_str())?;
            ws.write(row, 4, p.parts as f64)?;
            ws.write(row, 5, p.done as f64)?;
            ws.write(row, 6, p.overdue as f64)?;
            ws.write(row, 7, p.created.as_str())?;
            ws.write(row, 8, p.closed.as_str())?;
        }
    }
    wb.save_to_buffer()
}
