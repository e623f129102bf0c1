//! The console's two languages: Simplified Chinese (default) and English. Every string a
//! page shows comes from here, including the names of the domain's vocabularies and the
//! translation of the API's error codes and field messages.

use lianxin_domain::calendar::TimeLimit;
use std::collections::HashMap;
use std::sync::OnceLock;

/// A language of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    /// `zh`/`zh-CN` or `en`; anything else is `None`.
    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "zh" | "zh-cn" | "zh-hans" => Some(Lang::Zh),
            "en" | "en-us" | "en-gb" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// The value of `<html lang>`.
    pub fn html(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
}

/// The translator handed to every template as `t`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tr {
    pub lang: Lang,
}

/// (key, 中文, English).
const STRINGS: &[(&str, &str, &str)] = &[
    // Chrome of every page.
    ("app.name", "连心 · 12345 热线", "Lianxin · 12345 hotline"),
    ("app.short", "连心", "Lianxin"),
    ("nav.intake", "受理登记", "Intake"),
    ("nav.registered", "待提交", "Drafts"),
    ("nav.review", "审核", "Review"),
    ("nav.dispatch", "派单", "Dispatch"),
    ("nav.inbox", "本单位待办", "Unit inbox"),
    ("nav.callback", "回访", "Callbacks"),
    ("nav.supervise", "督办看板", "Supervision"),
    ("nav.orders", "工单查询", "Orders"),
    ("nav.search", "全文检索", "Search"),
    ("nav.kb", "知识库", "Knowledge base"),
    ("nav.announcements", "公告", "Notices"),
    ("nav.incidents", "事件", "Incidents"),
    ("search.place", "限定地点", "Place"),
    ("search.lead_unit", "主办单位", "Lead unit"),
    ("nav.hotspots", "热点", "Hotspots"),
    ("hot.days", "时段", "Period"),
    ("hot.days_7", "近7天", "Last 7 days"),
    ("hot.days_30", "近30天", "Last 30 days"),
    ("hot.days_90", "近90天", "Last 90 days"),
    ("hot.from", "开始日期", "From"),
    ("hot.to", "结束日期", "To"),
    ("hot.level", "地点层级", "Places"),
    ("hot.level_street", "街道", "Streets"),
    ("hot.level_district", "区", "Districts"),
    (
        "hot.explain",
        "件数与前4个同样长的时段的平均值（基线）比较。新兴热点：至少5件，且若按基线的泊松分布出现这么多件的概率低于1%。",
        "Counts are compared with the mean of the previous four periods of the same length (the baseline). Emerging: at least 5 orders, and fewer than 1% chance of so many under a Poisson law at the baseline.",
    ),
    ("hot.baseline_from", "基线自", "Baseline from"),
    ("hot.ranked", "热点排行", "Ranked"),
    ("hot.none", "这个时段没有工单", "No orders in this period"),
    ("hot.place", "地点", "Place"),
    ("hot.count", "件数", "Orders"),
    ("hot.baseline", "基线", "Baseline"),
    ("hot.growth", "增长", "Growth"),
    ("hot.new", "新出现", "new"),
    // Statistics.
    ("nav.stats", "统计分析", "Statistics"),
    ("stats.kpis", "考核指标", "KPIs"),
    ("stats.ranking", "单位排名", "Unit ranking"),
    ("stats.group_by", "分组", "Group by"),
    ("stats.by_unit", "按主办单位", "By lead unit"),
    ("stats.by_category", "按分类", "By category"),
    ("stats.by_district", "按区", "By district"),
    ("stats.by_channel", "按渠道", "By channel"),
    ("stats.by_type", "按诉求类型", "By request type"),
    ("stats.by_day", "按日", "By day"),
    ("stats.col_unit", "主办单位", "Lead unit"),
    ("stats.col_category", "分类", "Category"),
    ("stats.col_district", "区", "District"),
    ("stats.col_channel", "渠道", "Channel"),
    ("stats.col_request_type", "诉求类型", "Request type"),
    ("stats.col_day", "日期", "Day"),
    ("stats.days_7", "近7天", "7 days"),
    ("stats.days_30", "近30天", "30 days"),
    ("stats.days_90", "近90天", "90 days"),
    ("stats.days_365", "近一年", "A year"),
    ("stats.total", "合计", "Total"),
    ("stats.registered", "受理量", "Registered"),
    ("stats.dispatched", "派单量", "Dispatched"),
    ("stats.replied", "答复量", "Replied"),
    ("stats.on_time", "按时办结率", "On time"),
    ("stats.satisfaction", "满意率", "Satisfaction"),
    ("stats.resolution", "解决率", "Resolution"),
    ("stats.completion", "办结率", "Completion"),
    ("stats.returns", "退单率", "Returns"),
    ("stats.fcr", "直接办结率", "First contact"),
    ("stats.hours", "平均办理时长（小时）", "Avg. hours to reply"),
    ("stats.score", "考核得分", "Score"),
    ("stats.sign", "按时签收率", "On-time sign"),
    ("stats.none", "此期间没有数据。", "No figures for this period."),
    (
        "stats.rank_none",
        "此期间没有派单或答复满10件的单位。",
        "No unit had 10 orders dispatched or replied in this period.",
    ),
    (
        "stats.rank_explain",
        "得分按考核权重加权各项指标；期间内派单或答复不足10件的单位不参与排名。",
        "The score weighs the KPIs by the assessment weights; units with fewer than 10 orders dispatched or replied in the period are not ranked.",
    ),
    (
        "stats.explain",
        "每项数据按其发生日计入期间（受理按受理日、答复按答复日、回访按回访日）；点击受理量查看对应工单。",
        "Each figure counts on its own day (registration, reply, callback); click a count to see the orders behind it.",
    ),
    // Reports.
    ("nav.reports", "报告", "Reports"),
    ("reports.pick", "周报与月报", "Weekly and monthly reports"),
    ("reports.view", "查看报告", "View"),
    ("reports.xlsx", "下载 Excel", "Excel workbook"),
    ("reports.special", "专报：任意期间", "Special report: any period"),
    (
        "reports.explain",
        "报告按本账号可见范围生成（区、街道账号只含本辖区），数据来自与统计页相同的指标；页面可直接打印。命令行：lianxin report --period 2026-10 --out 目录。",
        "A report covers what this account may see (a district's or street's account: its own area), with the same figures as the statistics pages; the page prints as it reads. From the command line: lianxin report --period 2026-10 --out DIR.",
    ),
    // The live wall.
    ("nav.wall", "实时大屏", "Live wall"),
    ("wall.title", "12345 热线实时大屏", "12345 hotline live wall"),
    ("wall.city", "全市", "Whole city"),
    ("wall.live", "实时连接", "Live"),
    ("wall.exit", "返回工作台", "Back to console"),
    ("wall.updated", "更新于", "updated"),
    ("wall.registered", "今日受理", "Registered today"),
    ("wall.open", "在办工单", "Open orders"),
    ("wall.overdue", "超期未办", "Overdue"),
    ("wall.fcr", "今日直接办结率", "First-contact resolution today"),
    ("wall.on_time", "今日按时办结率", "On time today"),
    ("wall.satisfaction", "今日满意率", "Satisfaction today"),
    (
        "wall.by_hour",
        "今日分时受理量（折线：近四周同一星期几平均）",
        "Today by hour (line: same weekday, average of 4 weeks)",
    ),
    ("wall.today", "今日", "Today"),
    ("wall.usual", "近四周同期平均", "Usual (4-week average)"),
    ("wall.types", "诉求类型", "Request types"),
    ("wall.channels", "受理渠道", "Channels"),
    ("wall.categories", "热点分类", "Top categories"),
    ("wall.districts", "各区受理量", "Districts"),
    ("wall.streets", "辖区各街道受理量", "Streets of the area"),
    ("wall.surge", "激增预警", "Surge alarm"),
    (
        "wall.surge_line",
        "{name}：近3小时 {count} 件，往日同时段平均 {mean} 件（上限 {upper}）",
        "{name}: {count} in the last 3 hours, usually {mean} (band up to {upper})",
    ),
    ("hot.emerging", "新兴热点", "emerging"),
    ("hot.heat", "热力表（分类 × 地点）", "Heat table (categories × places)"),
    ("search.place_clear", "不限地点", "any place"),
    ("nav.problems", "疑难问题", "Tough problems"),
    ("prb.title", "标题", "Title"),
    ("prb.title_col", "问题", "Problem"),
    ("prb.new", "立项跟踪疑难问题", "Track a tough problem"),
    ("prb.back", "返回疑难问题", "All tough problems"),
    ("prb.status.open", "办理中", "Open"),
    ("prb.status.closed", "已办结", "Closed"),
    ("prb.none", "没有疑难问题。", "No tough problems."),
    ("prb.progress", "任务完成", "Parts done"),
    ("prb.overdue_parts", "逾期任务", "Overdue parts"),
    ("prb.orders", "关联工单", "Orders behind it"),
    ("prb.candidates", "疑难问题线索", "Candidates"),
    ("prb.days_30", "近30天", "Last 30 days"),
    ("prb.days_90", "近90天", "Last 90 days"),
    ("prb.days_180", "近180天", "Last 180 days"),
    ("prb.rule_a", "同一地点同一分类受理至少 ", "A category in one place with at least "),
    ("prb.rule_b", " 件，且重复来电、不满意回访或超期（含正在超期）中至少一项达到 ", " orders and at least "),
    (
        "prb.rule_c",
        " 件；按三项之和排序。",
        " of one kind of trouble (repeated contacts, dissatisfied callbacks, late or overdue); sorted by their sum.",
    ),
    ("prb.no_candidates", "本期没有符合条件的线索。", "No candidates in this period."),
    ("prb.repeat", "重复来电", "Repeats"),
    ("prb.dissatisfied", "不满意", "Dissatisfied"),
    ("prb.late", "超期", "Late"),
    ("prb.score", "分值", "Score"),
    ("prb.tracked", "已立项", "Tracked"),
    ("prb.make", "立项", "Track"),
    ("prb.make_go", "立项并通知各单位", "Track and notify the units"),
    ("prb.description", "说明", "Description"),
    ("prb.parts", "责任分工", "Parts"),
    (
        "prb.parts_hint",
        "每个责任单位一行：要做什么、何时完成。未用的行留空。",
        "One row per responsible unit: what it is to do and by when. Leave unused rows empty.",
    ),
    ("prb.unit", "责任单位", "Unit"),
    ("prb.suggested", "按派单规则，这类工单的主办单位是", "By the routing table these orders go to "),
    ("prb.task", "任务", "Task"),
    ("prb.due", "完成期限", "Due"),
    ("prb.part_no", "任务 ", "Part "),
    ("prb.part.open", "办理中", "Open"),
    ("prb.part.overdue", "已逾期", "Overdue"),
    ("prb.part.done", "已完成", "Done"),
    ("prb.created", "立项", "Made"),
    ("prb.closed", "办结时间", "Closed"),
    ("prb.reports", "进展报告", "Progress reports"),
    ("prb.no_reports", "还没有进展报告。", "No reports yet."),
    ("prb.report", "报告进展", "Report progress"),
    ("prb.note", "进展情况", "What was done"),
    ("prb.finished", "本单位任务是否已完成", "Is this part finished?"),
    ("prb.finished_no", "尚未完成（阶段进展）", "Not yet (progress so far)"),
    ("prb.finished_yes", "已完成", "Finished"),
    ("prb.report_go", "提交报告", "Submit report"),
    ("prb.done.made", "已立项，各责任单位已收到通知。", "Tracked; each unit has been notified."),
    ("prb.done.reported", "进展已记录。", "Report recorded."),
    ("prb.done.closed", "各项任务均已完成，问题已办结。", "Every part is done: the problem is closed."),
    ("prb.category", "分类", "Category"),
    ("prb.place", "地点", "Place"),
    ("prb.part", "任务", "Part"),
    ("prb.done", "是否完成", "Finished"),
    ("inc.title", "事件", "Incident"),
    ("inc.status", "状态", "Status"),
    ("inc.status.proposed", "待确认", "Proposed"),
    ("inc.status.confirmed", "已确认", "Confirmed"),
    ("inc.status.replied", "已统一答复", "Replied"),
    ("inc.status.dismissed", "已驳回", "Dismissed"),
    ("inc.all", "全部", "All"),
    ("inc.none", "暂无事件", "No incidents"),
    ("inc.name", "事件", "Incident"),
    ("inc.district", "区", "District"),
    ("inc.orders", "工单", "Orders"),
    ("inc.created", "发现时间", "Found"),
    ("inc.decided_by", "确认/驳回人", "Decided by"),
    ("inc.replied_at", "统一答复时间", "Replied"),
    ("inc.confirm", "确认为事件", "Confirm"),
    ("inc.dismiss", "驳回", "Dismiss"),
    (
        "inc.dismiss_confirm",
        "驳回后这些工单照常逐件办理，确定驳回？",
        "Dismiss it? Its orders are handled one by one as before.",
    ),
    (
        "inc.decide_hint",
        "确认后，同区同类的新来电会在登记时提示并入此事件",
        "Once confirmed, new calls of this kind in this district are offered to join it at intake",
    ),
    ("inc.done.confirmed", "已确认为事件。", "Confirmed as an incident."),
    ("inc.done.dismissed", "已驳回。", "Dismissed."),
    ("inc.done.orders", "工单已并入事件。", "The orders joined the incident."),
    ("inc.detect", "立即检测", "Look for incidents now"),
    ("inc.detected", "检测完成，新发现事件：", "Done; new incidents found: "),
    ("inc.rule", "发现规则", "Rule"),
    (
        "inc.rule_now",
        "同一区、同一分类的未办结工单，在时间窗内达到",
        "Open orders of one category in one district reaching",
    ),
    ("inc.rule_unit", "（件 / 分钟）即提出事件", "(orders / minutes) make a proposed incident"),
    ("inc.min_orders", "最少工单数", "Minimum orders"),
    ("inc.window_minutes", "时间窗（分钟）", "Window (minutes)"),
    ("inc.rule_save", "保存规则", "Save the rule"),
    ("inc.rule_saved", "规则已保存，下次检测起生效。", "The rule is saved; the next detection uses it."),
    ("inc.back", "返回事件列表", "All incidents"),
    ("inc.hidden", "另有不在您范围内的工单：", "Orders outside your scope: "),
    ("inc.reply", "统一答复", "One reply for all"),
    (
        "inc.reply_hint",
        "答复会逐件写入每张工单（各自留痕、各自计时），只答复您有权答复的工单。",
        "The reply is given to each order as its own reply (own record, own deadline); only those you may reply to.",
    ),
    ("inc.solved", "问题是否已解决", "Is the matter solved?"),
    ("inc.solved_yes", "已解决", "Solved"),
    ("inc.solved_no", "未解决（说明原因）", "Not solved (say why)"),
    ("inc.reply_go", "答复全部工单", "Reply to every order"),
    ("inc.replied_n", "已答复工单：", "Orders replied to: "),
    ("inc.refused", "以下工单未能答复：", "These orders could not be replied to:"),
    ("inc.add", "并入工单", "Add orders"),
    ("inc.numbers", "工单号", "Order numbers"),
    ("inc.numbers_hint", "每行一个，或用逗号分隔", "one per line, or comma-separated"),
    ("inc.add_go", "并入", "Add"),
    ("inc.in_other", "已在其他事件中", "is in another incident already"),
    ("ann.new", "发布公告", "New announcement"),
    ("ann.edit", "修改公告", "Edit announcement"),
    ("ann.show", "显示范围", "Show"),
    ("ann.show_now", "生效中和待生效", "In force and to come"),
    ("ann.show_all", "全部（含已结束）", "All (with past ones)"),
    ("ann.none", "暂无公告", "No announcements"),
    ("ann.kind", "类型", "Kind"),
    ("ann.kind.outage", "停水停电停气", "Outage"),
    ("ann.kind.road_closure", "道路封闭", "Road closure"),
    ("ann.kind.route_change", "线路调整", "Route change"),
    ("ann.kind.other", "其他", "Other"),
    ("ann.area", "影响范围", "Area"),
    (
        "ann.area_hint",
        "勾选整个区，或在下面选街道（按住 Ctrl 多选）",
        "tick whole districts, or pick streets below (Ctrl for several)",
    ),
    ("ann.whole", "（全区）", " (whole district)"),
    ("ann.streets", "街道", "Streets"),
    ("ann.window", "时间", "When"),
    ("ann.starts_at", "开始时间", "Starts"),
    ("ann.ends_at", "结束时间", "Ends"),
    ("ann.publisher", "发布单位", "Published by"),
    ("ann.body_hint", "话务员会向来电人读出这段话", "operators read this out to callers"),
    ("ann.when.now", "生效中", "in force"),
    ("ann.when.later", "待生效", "to come"),
    ("ann.when.past", "已结束", "ended"),
    ("ann.save", "保存并发布", "Save and publish"),
    ("ann.saved", "公告已保存。", "The announcement is saved."),
    ("ann.withdraw", "撤回", "Withdraw"),
    (
        "ann.withdraw_confirm",
        "撤回后来电登记时不再显示这条公告，确定撤回？",
        "Withdraw it? Intake will no longer show it.",
    ),
    ("ann.withdrawn", "公告已撤回。", "The announcement is withdrawn."),
    ("kb.new", "新建知识", "New article"),
    ("kb.edit", "修改", "Edit"),
    ("kb.all", "全部知识", "All articles"),
    ("kb.placeholder", "如：身份证 补办", "e.g. ID card replace"),
    ("kb.old_version", "这是旧版本", "An older version"),
    ("kb.current", "看当前版本", "see the current"),
    (
        "kb.expired",
        "本条知识不在有效期内，答复前请核实。",
        "This answer is outside its validity: check before reading it out.",
    ),
    ("kb.withdrawn", "已停用", "withdrawn"),
    ("kb.unit", "所属单位", "Owning unit"),
    ("kb.tags", "标签", "Tags"),
    ("kb.validity", "有效期", "Valid"),
    ("kb.version", "版本", "Version"),
    ("kb.history", "修改历史", "History"),
    ("kb.title", "标题", "Title"),
    ("kb.body", "正文", "Body"),
    ("kb.body_hint", "空行分段，- 开头为列表，**粗体**", "blank lines part paragraphs, - starts a list item, **bold**"),
    ("kb.codes_hint", "分类代码，逗号分隔", "category codes, comma-separated"),
    ("kb.no_unit", "（热线中心）", "(the hotline)"),
    ("kb.valid_from", "生效日期", "Valid from"),
    ("kb.valid_to", "失效日期", "Valid to"),
    ("kb.active", "启用（停用后不再出现在检索中，历史保留）", "Active (a withdrawn article keeps its history)"),
    ("kb.save", "保存为新版本", "Save as a new version"),
    ("kb.cancel", "取消", "Cancel"),
    ("kb.title_taken", "已有同名知识，请修改那一条", "An article with this title exists: edit that one"),
    (
        "fts.hint",
        "按内容检索工单：每个词都要出现（同义词、分词不同的写法也算）。j/k 上下移动，Enter 打开，/ 回到检索框。",
        "Search orders by their words: every word must appear (a synonym or another way of writing it counts). j/k move, Enter opens, / returns to the box.",
    ),
    ("fts.words", "检索词", "Words"),
    ("fts.placeholder", "如：路灯 不亮", "e.g. streetlight broken"),
    ("fts.sort", "排序", "Order"),
    ("fts.relevance", "相关度", "Best match"),
    ("fts.newest", "最新", "Newest"),
    ("fts.go", "检索", "Search"),
    ("fts.results", "检索结果", "Results"),
    ("fts.none", "没有找到包含这些词的工单。", "No order holds these words."),
    ("fts.too_long", "检索词最多 200 个字。", "At most 200 characters."),
    ("nav.logout", "退出", "Sign out"),
    ("nav.jump", "工单号或来电号码", "Order or phone no."),
    ("nav.jump_go", "打开", "Open"),
    ("nav.skip", "跳到主要内容", "Skip to content"),
    (
        "nav.keys",
        "快捷键：Alt+数字 切换页面 · / 工单号或来电号码 · j/k 上下行 · Enter 打开",
        "Keys: Alt+digit pages · / order or phone no. · j/k rows · Enter opens",
    ),
    ("lang.switch", "English", "中文"),
    // Login.
    ("login.title", "登录", "Sign in"),
    ("login.username", "用户名", "Username"),
    ("login.password", "密码", "Password"),
    ("login.submit", "登录", "Sign in"),
    ("login.failed", "用户名或密码错误。", "Wrong username or password."),
    ("login.demo", "演示账号（密码均为 demo）", "Demo accounts (password demo)"),
    ("login.signed_out", "您已退出登录。", "You have signed out."),
    (
        "login.throttled",
        "登录失败次数过多，为保护账号安全，请稍后再试。",
        "Too many failed sign-ins: to protect the account, please wait before trying again.",
    ),
    ("login.retry_in", "请在", "Try again in"),
    ("login.seconds", "秒后重试。", "seconds."),
    // Generic.
    ("common.none", "—", "—"),
    ("common.yes", "是", "Yes"),
    ("common.no", "否", "No"),
    ("common.open", "打开", "Open"),
    ("common.count", "条", "items"),
    ("common.more", "更多操作", "More actions"),
    ("common.next", "下一页", "Next page"),
    ("common.first", "第一页", "First page"),
    ("common.prev", "上一页", "Previous page"),
    // Paged lists: `{n}` is the true number of orders the list holds, `{p}` the page.
    ("list.total", "共 {n} 条", "{n} in all"),
    ("list.page", "第 {p} / {n} 页", "page {p} of {n}"),
    ("common.empty", "暂无工单。", "No orders."),
    ("common.filter", "筛选", "Filter"),
    ("common.all", "全部", "All"),
    ("common.confidential", "保密", "confidential"),
    ("common.hidden", "保密来电人（已隐藏）", "Confidential caller (hidden)"),
    ("common.overdue", "超期", "Overdue"),
    ("common.at_risk", "临期", "At risk"),
    ("common.on_time", "正常", "On time"),
    ("common.filter_units", "输入以筛选单位…", "Type to filter units…"),
    ("common.filter_none", "没有匹配项，请换个词或拼音首字母", "Nothing matches; try another word"),
    ("common.type_to_add_units", "输入单位名称或拼音首字母添加", "Type a unit's name to add it"),
    ("common.remove", "移除", "Remove"),
    ("common.suggested", "建议", "Suggested"),
    // Columns.
    ("col.number", "工单号", "Number"),
    ("col.created", "登记时间", "Registered"),
    ("col.type", "类型", "Type"),
    ("col.urgency", "紧急", "Urgency"),
    ("col.category", "分类", "Category"),
    ("col.title", "标题", "Title"),
    ("col.place", "地点", "Place"),
    ("col.caller", "来电人", "Caller"),
    ("col.status", "状态", "Status"),
    ("col.lead", "主办单位", "Lead unit"),
    ("col.deadline", "办理期限", "Deadline"),
    ("col.sign_deadline", "签收期限", "Sign by"),
    ("col.action", "操作", "Action"),
    ("col.reply", "答复", "Reply"),
    ("col.suggested", "建议主办", "Suggested lead"),
    ("col.mark", "预警", "Mark"),
    ("col.extension", "延期申请", "Extension request"),
    // Intake.
    ("intake.title", "受理登记", "Register a call"),
    ("intake.caller", "来电人", "Caller"),
    ("intake.phone", "来电号码", "Phone"),
    ("intake.name", "姓名", "Name"),
    ("intake.confidential", "保密（对承办单位隐藏姓名和号码）", "Confidential (hidden from handling units)"),
    ("intake.channel", "渠道", "Channel"),
    ("intake.request", "诉求", "Request"),
    ("intake.request_type", "诉求类型", "Request type"),
    ("intake.category", "分类", "Category"),
    ("intake.category_ph", "输入名称或拼音首字母，如 ldbl", "Type a name or pinyin initials, e.g. ldbl"),
    ("intake.urgency", "紧急程度", "Urgency"),
    ("intake.place", "地点", "Place"),
    ("intake.district", "区", "District"),
    ("intake.district_any", "（全市，不限区）", "(whole city)"),
    ("intake.street", "街道（可不填）", "Street (optional)"),
    ("intake.street_ph", "输入街道名或拼音首字母", "Type a street name or pinyin initials"),
    (
        "intake.category_none",
        "没有匹配的分类：换个说法试试（如「噪音」「路灯」），或按上级分类查找",
        "No category matches: try another word (noise, streetlight) or a broader group",
    ),
    ("intake.street_none", "没有匹配的街道：换个名称或拼音首字母", "No street matches: try another name or initials"),
    ("intake.address", "详细地址", "Address"),
    ("intake.title_field", "标题（可空，自动取内容首句）", "Title (optional, taken from the content)"),
    ("intake.content", "诉求内容", "What the caller says"),
    ("intake.resolution", "答复内容（直接办结时必填）", "Answer (required to close at once)"),
    ("intake.close_kind", "办结方式", "Closed as"),
    ("intake.submit", "登记并提交审核", "Register and submit for review"),
    ("intake.close", "登记并直接办结", "Register and close (answered)"),
    ("intake.save", "仅登记", "Register only"),
    ("intake.keys", "Ctrl+Enter 提交审核", "Ctrl+Enter submits for review"),
    ("intake.limits", "办理时限", "Time limits"),
    ("intake.prompts", "登记要点", "Ask the caller"),
    ("intake.insert_prompts", "插入要点模板", "Insert as template"),
    ("intake.pick_category", "选择分类后显示时限和登记要点。", "Pick a category to see its time limits and prompts."),
    ("intake.history", "来电历史", "Caller history"),
    ("intake.aids", "答复参考", "Answers and similar orders"),
    (
        "intake.aids_hint",
        "边听边记：输入诉求内容后，这里列出相似的在办工单、知识库答复、受理模板、公告和转介渠道。",
        "As you type what the caller says, similar open orders, answers, the template, announcements and referrals appear here.",
    ),
    ("aids.none", "没有找到可参考的内容。", "Nothing to go on yet."),
    ("aids.similar", "相似的在办工单（近30天）", "Similar open orders (last 30 days)"),
    ("aids.score", "相似度", "Similarity"),
    ("aids.why", "相同", "Shared"),
    ("aids.same_street", "同一街道", "same street"),
    ("aids.same_category", "同一分类", "same category"),
    ("aids.merge", "并入此单（不新建工单）", "Merge into this order (no new order)"),
    ("aids.kb", "知识库答复", "Knowledge base"),
    ("aids.expired", "已过有效期", "expired"),
    ("aids.cite", "引用答复并办结", "Cite and close"),
    ("aids.refer", "告知转介并办结", "Refer and close"),
    ("aids.open", "查看全文", "Open"),
    ("aids.cite_kb", "依据知识库", "Answered from the knowledge base: "),
    ("aids.cite_announcement", "已告知公告", "Told the caller of the announcement "),
    ("aids.cite_referral", "非政府职责范围，已告知来电人联系", "Not the government's matter; referred the caller to "),
    ("aids.template", "受理模板", "Intake template"),
    ("aids.insert", "插入模板", "Insert the template"),
    ("aids.announcements", "当前公告（本街道）", "Announcements for this place"),
    ("aids.referrals", "转介渠道（零跑腿）", "Referral directory"),
    ("cite.article", "引用知识库", "Knowledge base: "),
    ("cite.referral", "转介至", "Referred to "),
    ("cite.announcement", "引用公告", "Announcement: "),
    ("order.incident", "所属事件", "Incident"),
    ("aids.incidents", "已确认的事件", "Confirmed incidents"),
    ("aids.incident_orders", "已有工单", "Orders so far:"),
    ("aids.join_incident", "登记后并入此事件", "Add this order to the incident"),
    ("intake.cited", "引用", "Cited"),
    ("intake.cite_clear", "取消引用", "Remove the citation"),
    ("intake.done_joined", "，并已并入所选事件", ", and added to the incident"),
    (
        "intake.done_not_joined",
        "，但未能并入所选事件（可在事件页面并入）",
        ", but it could not join the incident (add it from the incident's page)",
    ),
    ("intake.joins", "登记后并入事件", "Joins the incident"),
    ("intake.join_clear", "不并入事件", "Do not join the incident"),
    (
        "intake.history_hint",
        "输入来电号码后自动显示该号码的历史工单。",
        "Type the phone number to see the caller's past orders.",
    ),
    ("intake.no_history", "该号码没有历史工单。", "No earlier orders from this number."),
    ("intake.repeat", "重复来电：该来电人已有未办结工单", "Repeat call: this caller already has an open order"),
    ("intake.done_submit", "已登记并提交审核", "Registered and submitted for review"),
    ("intake.done_close", "已登记并直接办结", "Registered and closed at first contact"),
    ("intake.done_save", "已登记（待提交）", "Registered (not yet submitted)"),
    ("intake.no_districts", "无", "none"),
    // Queues.
    ("queue.registered", "待提交（含退回补正）", "Drafts and orders sent back"),
    ("queue.review", "待审核工单", "Orders awaiting review"),
    ("queue.dispatch", "待派单工单", "Orders awaiting dispatch"),
    ("queue.extensions", "待审批的延期申请", "Extension requests awaiting a decision"),
    ("queue.inbox_lead", "本单位主办", "Led by this unit"),
    ("queue.inbox_other", "下级单位、协办及辖区工单", "Sub-units, assisting and in the district"),
    ("queue.callback", "待回访工单", "Orders awaiting callback"),
    ("queue.orders", "工单查询", "Find orders"),
    ("queue.returned", "退回", "returned"),
    ("queue.returned_by", "退回原因", "Returned because"),
    ("queue.dispatch_suggested", "按建议派单", "Dispatch to suggestion"),
    ("queue.open_to_send_back", "退回需填写原因，请打开工单。", "Sending back needs a reason: open the order."),
    ("queue.record", "记录", "Record"),
    ("queue.new_deadline", "申请延至", "Until"),
    ("super.title", "督办看板", "Supervision board"),
    ("super.red", "已超期", "Overdue"),
    ("super.yellow", "临期（已用 75% 以上时限）", "At risk (75% of the time used)"),
    ("super.green", "时限内", "Within limit"),
    ("super.show_all", "显示全部在办工单", "Show every order being handled"),
    ("super.show_marked", "只看超期和临期", "Only overdue and at risk"),
    ("super.urge_note", "督办意见", "Urge note"),
    ("super.list_marked", "超期和临期工单", "Overdue and at-risk orders"),
    ("super.list_red", "已超期工单", "Overdue orders"),
    ("super.list_yellow", "临期工单", "At-risk orders"),
    ("super.list_green", "时限内工单", "Orders within their limit"),
    ("super.list_all", "全部在办工单", "Every order being handled"),
    ("super.filter_hint", "点击数字只看该类工单", "Click a count to list only those orders"),
    // The order search.
    ("search.number", "工单号（可只填开头）", "Order no. (or its start)"),
    ("search.phone", "来电号码（完整）", "Caller's phone (whole number)"),
    ("search.address", "地址包含", "Address contains"),
    ("search.created_from", "登记日期自", "Registered from"),
    ("search.created_to", "至（含当日）", "to (inclusive)"),
    ("search.date_ph", "YYYY-MM-DD", "YYYY-MM-DD"),
    ("search.clear", "清除条件", "Clear"),
    ("search.bad_number", "工单号只能是数字（最多 20 位）。", "An order number is digits only (at most 20)."),
    (
        "search.bad_phone",
        "请输入完整的电话号码：5–20 位数字，可带开头的 + 和 - 分隔。",
        "Enter a whole phone number: 5 to 20 digits, an optional leading + and - separators.",
    ),
    (
        "search.bad_address",
        "地址条件最多 100 个字，且不能含控制字符。",
        "The address text is at most 100 characters, without control characters.",
    ),
    ("search.bad_date", "请按 YYYY-MM-DD 填写日期，如 2026-11-23。", "Write the date as YYYY-MM-DD, e.g. 2026-11-23."),
    ("search.bad_range", "结束日期不能早于开始日期。", "The end date is before the start date."),
    (
        "search.bad_jump",
        "“{v}”既不是工单号（13 位以上数字），也不是电话号码。",
        "“{v}” is neither an order number (13 or more digits) nor a phone number.",
    ),
    ("col.address", "详细地址", "Address"),
    ("super.left", "剩余", "left"),
    ("super.over", "超期", "overdue by"),
    // Order page.
    ("order.title", "工单", "Order"),
    ("order.content", "诉求内容", "Request"),
    ("order.facts", "基本信息", "Facts"),
    ("order.category", "分类", "Category"),
    ("order.channel", "渠道", "Channel"),
    ("order.request_type", "诉求类型", "Request type"),
    ("order.urgency", "紧急程度", "Urgency"),
    ("order.caller", "来电人", "Caller"),
    ("order.place", "地点", "Place"),
    ("order.lead", "主办单位", "Lead unit"),
    ("order.assisting", "协办单位", "Assisting units"),
    ("order.created", "登记", "Registered"),
    ("order.deadline", "办理期限", "Deadline"),
    ("order.sign_deadline", "签收期限", "Sign by"),
    ("order.pending_extension", "待审批延期", "Extension requested"),
    ("order.reply", "办结答复", "Reply"),
    ("order.callback", "回访结果", "Callback"),
    ("order.first_contact", "直接办结", "Closed at first contact"),
    ("order.closed_at", "办结时间", "Closed"),
    ("order.merged_into", "已合并到", "Merged into"),
    ("order.counters", "退回 / 重办 / 督办 / 延期", "Returns / reopens / urges / extensions"),
    ("order.timeline", "处理过程", "Timeline"),
    ("order.actions", "办理", "Act on this order"),
    ("order.no_actions", "您在此状态下没有可执行的操作。", "Nothing for you to do in this state."),
    ("order.solved", "已解决", "solved"),
    ("order.solved_unknown", "未记录是否解决", "solved: not recorded"),
    ("order.source_ref", "原系统编号", "Previous system's id"),
    ("order.unsolved", "未解决", "not solved"),
    ("order.hash", "哈希链", "Hash chain"),
    ("tl.seq", "#", "#"),
    ("tl.at", "时间", "Time"),
    ("tl.who", "操作人", "Who"),
    ("tl.action", "动作", "Action"),
    ("tl.status", "状态变化", "Status"),
    ("tl.detail", "说明", "Details"),
    // Action forms.
    ("f.reason", "原因", "Reason"),
    ("f.note", "备注（可空）", "Note (optional)"),
    ("f.resolution", "答复内容", "Answer"),
    ("f.kind", "办结方式", "Closed as"),
    ("f.lead_unit", "主办单位", "Lead unit"),
    ("f.assisting_units", "协办单位（可多个，输入名称添加）", "Assisting units (type a name to add one)"),
    ("f.unit", "下级单位", "Sub-unit"),
    ("f.until", "延期至", "Extend until"),
    ("f.reply_content", "办理结果", "What was done"),
    ("f.solved", "问题是否解决", "Solved?"),
    ("f.satisfaction", "满意度", "Satisfaction"),
    ("f.approve_ext", "审批", "Decision"),
    ("f.approve_yes", "同意延期", "Approve"),
    ("f.approve_no", "不同意", "Deny"),
    ("f.into", "合并到工单号", "Merge into order number"),
    ("f.level", "督办级别", "Level"),
    ("f.text", "备注内容", "Note"),
    ("f.suggested_lead", "建议主办（按分类和街道规则）", "Suggested lead (category and street rules)"),
    ("f.last_return", "上次退回", "Last returned"),
    ("btn.submit", "提交审核", "Submit for review"),
    ("btn.close", "直接办结", "Close at first contact"),
    ("btn.approve", "审核通过", "Approve"),
    ("btn.send_back", "退回补正", "Send back"),
    ("btn.dispatch", "派单", "Dispatch"),
    ("btn.sign", "签收", "Sign for it"),
    ("btn.reply", "提交办结答复", "Send the reply"),
    ("btn.return", "退回派单中心", "Return to dispatch"),
    ("btn.request_extension", "申请延期", "Request an extension"),
    ("btn.subdispatch", "下派", "Sub-dispatch"),
    ("btn.decide_extension", "提交审批", "Decide"),
    ("btn.callback", "记录回访", "Record the callback"),
    ("btn.unreachable", "未联系上", "Not reached"),
    (
        "hint.unreachable",
        "打不通或无人接听：只记为未联系上，不计满意度。",
        "No answer: recorded as not reached, not counted in satisfaction.",
    ),
    ("f.choose", "请选择", "Choose"),
    ("btn.reopen", "重办", "Reopen"),
    ("btn.merge", "合并", "Merge"),
    ("btn.cancel", "作废", "Cancel the order"),
    ("btn.urge", "督办", "Urge"),
    ("btn.note", "添加备注", "Add a note"),
    ("btn.correct", "保存更正", "Save the correction"),
    ("btn.add_contact", "追加到此工单", "Add to this order"),
    ("btn.add_contact_urge", "追加到此工单并催办承办单位", "Add to this order and remind its unit"),
    (
        "hint.add_contact_intake",
        "同一事项再次来电：把左侧填写的内容追加到原工单（计为重复来电，不新建工单）；不同事项请照常登记。",
        "The same matter again: add what you typed to that order (a repeat contact, no new order); a different matter is registered as usual.",
    ),
    (
        "hint.correct",
        "分类、诉求类型、紧急程度或地点有误时在派单前更正",
        "Fix the category, type, urgency or place before dispatch",
    ),
    (
        "hint.add_contact",
        "来电人就此事再次来电：记为重复来电，不新建工单。",
        "The resident called again about this matter: counted as a repeat contact, no new order.",
    ),
    ("f.correct_note", "更正说明", "Why (optional)"),
    (
        "f.datetime_hint",
        "格式：年-月-日 时:分，如 2026-11-30 17:30",
        "As year-month-day hour:minute, e.g. 2026-11-30 17:30",
    ),
    ("f.contact_content", "本次来电内容", "What the caller said this time"),
    ("contact.other_caller", "另一来电人", "another caller"),
    ("common.filter_categories", "输入分类名称或拼音首字母筛选", "Type a category name to filter"),
    ("order.limit_from_dispatch", "（按当前分类，自派单起算）", "(for the current category, from dispatch)"),
    // Outcomes.
    ("done.submit", "已提交审核", "Submitted for review"),
    ("done.approve", "已审核通过", "Approved"),
    ("done.send_back", "已退回补正", "Sent back"),
    ("done.close", "已直接办结", "Closed at first contact"),
    ("done.dispatch", "已派单", "Dispatched"),
    ("done.sign", "已签收", "Signed for"),
    ("done.return", "已退回派单中心", "Returned to dispatch"),
    ("done.subdispatch", "已下派", "Sub-dispatched"),
    ("done.request_extension", "已申请延期", "Extension requested"),
    ("done.decide_extension", "已审批延期申请", "Extension decided"),
    ("done.reply", "已提交办结答复", "Reply sent"),
    ("done.callback", "已记录回访", "Callback recorded"),
    ("done.reopen", "已重办", "Reopened"),
    ("done.merge", "已合并", "Merged"),
    ("done.cancel", "已作废", "Cancelled"),
    ("done.urge", "已督办", "Urged"),
    ("done.note", "已添加备注", "Note added"),
    ("done.correct", "已更正", "Corrected"),
    ("batch.title", "批量派单：勾选工单后派给", "Batch dispatch: send the ticked orders to"),
    ("batch.send", "派给所选单位", "Dispatch the ticked"),
    ("batch.all", "全选本页", "Tick the whole page"),
    ("batch.pick", "选择工单", "Tick order"),
    (
        "batch.sent",
        "已批量派单 {n} 单至 {unit}（每单各记一次派单）",
        "Dispatched {n} orders to {unit} (each its own dispatch)",
    ),
    ("batch.refused_title", "部分工单未派出", "Some orders were not dispatched"),
    ("batch.refused", "{n} 单未派出：{numbers}。", "{n} not dispatched: {numbers}."),
    ("batch.error_none", "请先勾选要派出的工单。", "Tick the orders to dispatch first."),
    ("batch.error_too_many", "一次最多派出 {max} 单。", "At most {max} orders at a time."),
    ("batch.error_no_unit", "请选择主办单位。", "Choose the lead unit."),
    ("done.add_contact", "已追加来电", "Contact added"),
    // Errors.
    ("err.title", "操作未执行", "Not done"),
    ("err.title_not_found", "未找到", "Not found"),
    ("err.title_forbidden", "无权访问", "Not allowed"),
    ("err.title_unavailable", "暂时无法服务", "Temporarily unavailable"),
    (
        "err.not_found",
        "未找到该工单，或该工单不在您的权限范围内。",
        "No such order, or it is outside what you may see.",
    ),
    ("err.page_not_found", "页面不存在。", "No such page."),
    ("err.forbidden_role", "您的角色无权执行此操作。", "Your role may not do this."),
    ("err.invalid_values", "填写的内容有误，请检查：", "Some values are missing or invalid:"),
    ("err.illegal_transition", "工单当前状态不允许此操作。", "The order's current status does not allow this."),
    (
        "err.stale_version",
        "工单已被他人更新，请查看最新内容后重试。",
        "Someone else changed the order; check it and try again.",
    ),
    ("err.conflict", "工单正在被频繁修改，请稍后重试。", "The order is changing quickly; try again."),
    ("err.database_unavailable", "数据库暂时不可用，请稍后重试。", "The database is unavailable; try again shortly."),
    ("err.malformed_request", "请求格式有误。", "The request was malformed."),
    (
        "err.internal_error",
        "系统内部错误，请稍后重试或联系管理员。",
        "An internal error occurred; try again or call the administrator.",
    ),
    (
        "err.csrf",
        "表单已失效或来源不明（CSRF 校验未通过），操作未执行。请刷新页面后重试。",
        "The form was stale or came from elsewhere (CSRF check failed); nothing was done. Reload the page and try again.",
    ),
    ("err.other", "操作未能完成。", "The action could not be completed."),
    ("err.detail", "系统说明", "Details"),
    ("err.back", "返回", "Back"),
    ("err.home", "回到首页", "Home"),
    ("err.state_rule", "当前状态", "Current status"),
    // admin console
    ("nav.admin", "系统管理", "Admin"),
    ("nav.admin_users", "账号管理", "Accounts"),
    ("adm.tab.overview", "概览", "Overview"),
    ("adm.tab.jurisdictions", "行政区划", "Jurisdictions"),
    ("adm.tab.units", "单位", "Units"),
    ("adm.tab.categories", "诉求分类", "Categories"),
    ("adm.tab.routes", "派单目录", "Routing catalogue"),
    ("adm.tab.users", "账号", "Accounts"),
    ("adm.tab.import", "导入导出", "Import and export"),
    ("adm.tab.logins", "登录记录", "Sign-ins"),
    (
        "adm.login.intro",
        "每次登录尝试（接口与页面）：用户名、来源地址、时间与结果，从不记录密码。",
        "Every sign-in attempt (API and console): username, address, time and outcome; never the password.",
    ),
    ("adm.login.address", "来源地址", "Address"),
    ("adm.login.outcome", "结果", "Outcome"),
    ("adm.login.via", "途径", "Via"),
    ("adm.login.any", "全部结果", "Any outcome"),
    ("adm.login.success", "成功", "Success"),
    ("adm.login.failure", "失败", "Failure"),
    ("adm.login.via_api", "接口", "API"),
    ("adm.login.via_console", "页面", "Console"),
    ("adm.login.empty", "没有符合条件的登录记录。", "No sign-ins match."),
    ("adm.login.older", "更早的记录 →", "Older →"),
    ("adm.overview_title", "系统管理", "City set-up"),
    ("adm.recent", "最近变更", "Latest changes"),
    ("adm.import_blurb", "批量导入 CSV / JSON，导出全部数据", "Import CSV / JSON files, export everything"),
    ("adm.groups", "个分类组", "groups"),
    ("adm.leaves", "个具体分类", "leaf categories"),
    ("adm.items", "项", "items"),
    ("adm.rows", "条", "rows"),
    ("adm.accounts", "个账号", "accounts"),
    ("adm.inactive_count", "项已停用", "deactivated"),
    ("adm.disabled_count", "个已停用", "disabled"),
    ("adm.active", "启用", "Active"),
    ("adm.inactive", "已停用", "Deactivated"),
    ("adm.enabled", "正常", "Enabled"),
    ("adm.disabled", "已停用", "Disabled"),
    ("adm.no_password", "未设密码", "No password"),
    ("adm.group", "分类组", "Group"),
    ("adm.anywhere", "任意地点", "Anywhere"),
    ("adm.none_option", "（无）", "(none)"),
    ("adm.choose_option", "（请选择）", "(choose)"),
    ("adm.inherit_option", "（继承上级）", "(inherit)"),
    ("adm.filter_ph", "输入以筛选…", "Type to filter…"),
    ("adm.search", "搜索", "Search"),
    ("adm.search_ph", "按名称、编码或拼音首字母搜索", "Search by name, code or pinyin initials"),
    ("adm.routes_search_ph", "按分类、地点或单位搜索", "Search by category, place or unit"),
    ("adm.users_search_ph", "按用户名、姓名、单位或角色搜索", "Search by username, name, unit or role"),
    ("adm.clear", "清除", "Clear"),
    ("adm.hits", "项匹配", "matching"),
    ("adm.no_hits", "没有匹配的项。", "Nothing matches."),
    ("adm.expand_all", "全部展开", "Expand all"),
    ("adm.collapse_all", "全部收起", "Collapse all"),
    ("adm.export_csv", "导出 CSV", "Export CSV"),
    ("adm.create", "新建", "Create"),
    ("adm.create_submit", "创建", "Create"),
    ("adm.user_create", "新建账号", "New account"),
    ("adm.edit", "修改", "Edit"),
    ("adm.save", "保存", "Save"),
    ("adm.change", "修改", "Change"),
    ("adm.delete", "删除", "Delete"),
    ("adm.children", "下级", "Below it"),
    ("adm.deactivate", "停用", "Deactivate"),
    ("adm.activate", "重新启用", "Reactivate"),
    (
        "adm.deactivate_hint",
        "停用后不再用于受理和派单，已有工单不受影响；可随时重新启用。",
        "A deactivated item leaves intake and dispatch; its orders keep it. It can be reactivated at any time.",
    ),
    ("adm.activate_hint", "重新启用后恢复用于受理和派单。", "Reactivated, it is offered at intake and dispatch again."),
    ("adm.disable", "停用账号", "Disable the account"),
    ("adm.enable", "启用账号", "Enable the account"),
    (
        "adm.disable_hint",
        "停用后该账号立即退出登录，不能再登录。",
        "A disabled account is signed out at once and cannot sign in.",
    ),
    ("adm.enable_hint", "启用后该账号可以再次登录。", "Enabled, the account can sign in again."),
    ("adm.own_account_note", "这是您自己的账号，不能停用。", "This is your own account; you cannot disable it."),
    ("adm.reset_password", "重置密码", "Reset the password"),
    ("adm.history", "变更记录", "Change history"),
    ("adm.history_empty", "暂无变更记录。", "No changes recorded."),
    ("adm.col.at", "时间", "When"),
    ("adm.col.who", "操作人", "Who"),
    ("adm.col.action", "操作", "Action"),
    ("adm.col.change", "变更内容（原值 → 新值）", "Change (before → after)"),
    ("adm.col.item", "对象", "Item"),
    ("adm.col.state", "状态", "State"),
    ("adm.col.line", "行", "Line"),
    ("adm.col.column", "列", "Column"),
    ("adm.col.message", "问题", "Problem"),
    ("adm.f.code", "编码", "Code"),
    ("adm.f.name", "名称", "Name"),
    ("adm.f.level", "层级", "Level"),
    ("adm.f.parent", "上级", "Parent"),
    ("adm.f.kind", "单位类型", "Kind"),
    ("adm.f.jurisdiction", "所属区划", "Jurisdiction"),
    ("adm.f.active", "状态", "State"),
    ("adm.f.limit_normal", "办理时限（一般）", "Time limit (normal)"),
    ("adm.f.limit_urgent", "办理时限（紧急）", "Time limit (urgent)"),
    ("adm.f.limit_emergency", "办理时限（特急）", "Time limit (emergency)"),
    ("adm.f.request_type", "默认诉求类型", "Default request type"),
    ("adm.f.prompts", "登记要点（每行一条）", "Intake prompts (one per line)"),
    ("adm.f.keywords", "俗称与同义词（每行一个）", "Other words callers use (one per line)"),
    ("adm.f.category", "分类", "Category"),
    ("adm.f.unit", "单位", "Unit"),
    ("adm.f.username", "用户名", "Username"),
    ("adm.f.display_name", "姓名（显示名）", "Display name"),
    ("adm.f.roles", "角色", "Roles"),
    ("adm.f.password", "初始密码（可空）", "Initial password (optional)"),
    ("adm.f.new_password", "新密码", "New password"),
    ("adm.f.has_password", "已设密码", "Has a password"),
    ("adm.f.content", "文件内容", "File content"),
    ("adm.f.route_category", "分类（或分类组）", "Category (or group)"),
    ("adm.f.route_jurisdiction", "地点", "Place"),
    ("adm.f.route_unit", "承办单位", "Handling unit"),
    ("adm.ph.code_jurisdictions", "如 440106001", "e.g. 440106001"),
    ("adm.ph.code_units", "如 city-urban", "e.g. city-urban"),
    ("adm.ph.code_categories", "如 urban.facilities.streetlight-out", "e.g. urban.facilities.streetlight-out"),
    ("adm.hint.parent_jurisdiction", "只有市级区划没有上级。", "Only the city has no parent."),
    ("adm.hint.inherits", "留空则继承：", "Empty inherits:"),
    (
        "adm.hint.prompts",
        "受理时提示话务员询问的问题，每行一条；留空则继承上级。",
        "Questions the operator asks at intake, one per line; empty inherits the parent's.",
    ),
    (
        "adm.hint.keywords",
        "来电人常说的词，如噪音类填「吵」「广场舞」：受理时搜这些词也能找到本分类。",
        "Words callers say (noise: \"loud\", \"square dancing\"): the intake's search finds this category by them.",
    ),
    ("adm.hint.route_category", "选分类组则适用于组内所有具体分类。", "A group applies to all its leaf categories."),
    (
        "adm.hint.route_place",
        "区或街道；任意地点为全市默认。",
        "A district or street; anywhere is the city-wide default.",
    ),
    (
        "adm.hint.username",
        "2–64 位字母、数字或 . - _ @，创建后不能修改。",
        "2 to 64 letters, digits, '.', '-', '_' or '@'; cannot be changed later.",
    ),
    ("adm.hint.unit", "承办人和单位管理员必须属于一个单位。", "Handlers and unit admins need a unit."),
    (
        "adm.hint.password",
        "至少 8 个字符；留空则该账号设置密码前不能登录。",
        "At least 8 characters; without one the account cannot sign in until one is set.",
    ),
    (
        "adm.hint.new_password",
        "至少 8 个字符；该账号的现有登录会话将结束。",
        "At least 8 characters; the account's sessions end.",
    ),
    ("adm.level.city", "市", "City"),
    ("adm.level.district", "区", "District"),
    ("adm.level.street", "街道", "Street"),
    ("adm.level.community", "社区", "Community"),
    ("adm.item.jurisdiction", "区划", "Jurisdiction"),
    ("adm.item.unit", "单位", "Unit"),
    ("adm.item.category", "分类", "Category"),
    ("adm.item.route", "派单目录", "Route"),
    ("adm.item.user", "账号", "Account"),
    ("adm.item.order", "工单", "Order"),
    ("adm.action.create", "新建", "Created"),
    ("adm.action.update", "修改", "Updated"),
    ("adm.action.deactivate", "停用", "Deactivated"),
    ("adm.action.activate", "重新启用", "Reactivated"),
    ("adm.action.delete", "删除", "Deleted"),
    ("adm.action.disable", "停用账号", "Disabled"),
    ("adm.action.enable", "启用账号", "Enabled"),
    ("adm.action.password", "重置密码", "Password set"),
    ("adm.done.create", "已创建", "Created"),
    ("adm.done.update", "已保存", "Saved"),
    ("adm.done.unchanged", "没有变化，未保存", "Nothing changed"),
    ("adm.done.deactivate", "已停用", "Deactivated"),
    ("adm.done.activate", "已重新启用", "Reactivated"),
    ("adm.done.route_create", "已添加派单目录", "Route added"),
    ("adm.done.route_update", "已更新派单目录", "Route replaced"),
    ("adm.done.delete", "已删除", "Deleted"),
    ("adm.done.disable", "账号已停用，其登录已失效", "Account disabled; its sessions have ended"),
    ("adm.done.enable", "账号已启用", "Account enabled"),
    ("adm.done.password", "密码已重置", "Password reset"),
    ("adm.done.import", "已导入", "Imported"),
    (
        "adm.routes_intro",
        "派单员派单时按此目录建议主办单位：分类越具体越优先，同一分类下街道优先于区、区优先于任意地点。",
        "Dispatchers are offered the lead unit this catalogue names: the nearest category wins, and within one category a street beats its district, which beats anywhere.",
    ),
    ("adm.route_add", "添加或替换", "Add or replace"),
    (
        "adm.route_replace_note",
        "同一分类和地点已有记录时，替换其承办单位。",
        "A row of the same category and place has its unit replaced.",
    ),
    ("adm.route_submit", "保存", "Save"),
    (
        "adm.unit_admin_note",
        "您只能管理本单位及下级单位的账号，只能授予承办人和单位管理员角色。",
        "You manage the accounts of your unit and the units below it, with the handler and unit admin roles.",
    ),
    ("adm.import_title", "导入导出", "Import and export"),
    ("adm.import_kind", "数据类型", "Kind"),
    ("adm.import_format", "格式", "Format"),
    ("adm.format_auto", "自动识别", "Detect"),
    ("adm.import_file", "从文件读取（可选）", "Read a file (optional)"),
    ("adm.import_columns", "可用列：", "Columns:"),
    ("adm.import_content", "粘贴 CSV（首行为列名）或 JSON 数组", "Paste CSV (a header row) or a JSON array"),
    ("adm.preview", "预览（不写入）", "Preview (writes nothing)"),
    ("adm.apply", "导入", "Apply"),
    (
        "adm.import_note",
        "按编码匹配：已有的更新，没有的新建；有任何错误行则全部不写入。",
        "Rows are matched by code: existing ones are updated, new ones created; any bad row and nothing is written.",
    ),
    ("adm.preview_title", "预览：导入将会", "Preview: the import would"),
    ("adm.preview_note", "这只是预览，尚未写入。", "This is a preview; nothing was written."),
    ("adm.created", "新建", "create"),
    ("adm.updated", "更新", "update"),
    ("adm.unchanged", "不变", "unchanged"),
    ("adm.more_changes", "另有更多变更未列出：", "More changes not listed:"),
    ("adm.bad_rows", "错误行", "Bad rows"),
    ("adm.export_title", "导出", "Export"),
    ("adm.export_note", "导出的文件可直接再导入。", "An exported file imports back unchanged."),
    ("adm.kind.jurisdictions", "行政区划", "Jurisdictions"),
    ("adm.kind.units", "单位", "Units"),
    ("adm.kind.categories", "诉求分类", "Categories"),
    ("adm.kind.routes", "派单目录", "Routing catalogue"),
    ("adm.kind.users", "账号", "Accounts"),
    ("adm.kind.orders", "历史工单", "Past orders"),
    ("adm.err.not_allowed_title", "无权访问", "Not allowed"),
    ("adm.err.forbidden_role", "您的角色无权执行此操作或访问此页面。", "Your role may not do this or open this page."),
    ("adm.err.not_found", "未找到该项，或它不在您的管理范围内。", "No such item, or it is outside what you manage."),
    (
        "adm.err.invalid_values",
        "填写的内容有误，请检查标出的字段：",
        "Some values are missing or invalid; see the marked fields:",
    ),
    (
        "adm.err.invalid_rows",
        "填写的内容有误，请检查标出的字段：",
        "Some values are missing or invalid; see the marked fields:",
    ),
    (
        "adm.err.invalid_rows_file",
        "文件有错误，未写入任何数据。错误行数：",
        "The file has problems; nothing was written. Bad rows:",
    ),
    ("adm.err.own_account", "不能停用您自己的账号。", "You cannot disable your own account."),
    ("adm.err.conflict", "数据正在被修改，请稍后重试。", "The data is changing; try again."),
];

fn table() -> &'static HashMap<&'static str, (&'static str, &'static str)> {
    static T: OnceLock<HashMap<&'static str, (&'static str, &'static str)>> = OnceLock::new();
    T.get_or_init(|| STRINGS.iter().map(|(k, zh, en)| (*k, (*zh, *en))).collect())
}

/// Whether `key` has a translation (used by the template check).
pub fn has(key: &str) -> bool {
    table().contains_key(key)
}

/// One entry of a closed vocabulary: (wire name, 中文, English).
type Vocab = &'static [(&'static str, &'static str, &'static str)];

const STATUS: Vocab = &[
    ("registered", "已登记", "Registered"),
    ("in_review", "待审核", "In review"),
    ("pending_dispatch", "待派单", "Awaiting dispatch"),
    ("dispatched", "待签收", "Dispatched"),
    ("in_progress", "办理中", "In progress"),
    ("replied", "已答复待回访", "Replied"),
    ("closed", "已办结", "Closed"),
    ("merged", "已合并", "Merged"),
    ("cancelled", "已作废", "Cancelled"),
];

const ACTION: Vocab = &[
    ("register", "登记", "Register"),
    ("submit", "提交审核", "Submit"),
    ("import", "导入（原系统）", "Imported"),
    ("approve", "审核通过", "Approve"),
    ("send_back", "退回补正", "Send back"),
    ("close", "直接办结", "Close at first contact"),
    ("dispatch", "派单", "Dispatch"),
    ("sign", "签收", "Sign"),
    ("return", "退单", "Return"),
    ("subdispatch", "下派", "Sub-dispatch"),
    ("request_extension", "申请延期", "Request extension"),
    ("decide_extension", "审批延期", "Decide extension"),
    ("reply", "办结答复", "Reply"),
    ("callback", "回访", "Callback"),
    ("reopen", "重办", "Reopen"),
    ("merge", "合并", "Merge"),
    ("cancel", "作废", "Cancel"),
    ("urge", "督办", "Urge"),
    ("note", "备注", "Note"),
    ("qa_sample", "质检抽样", "QA sample"),
    ("qa_pass", "质检通过", "QA passed"),
    ("qa_fail", "质检不合格", "QA failed"),
    ("correct", "更正", "Correct"),
    ("add_contact", "追加来电", "Add a contact"),
];

const REQUEST_TYPE: Vocab = &[
    ("consultation", "咨询", "Consultation"),
    ("help", "求助", "Help request"),
    ("complaint", "投诉", "Complaint"),
    ("report", "举报", "Report"),
    ("suggestion", "建议", "Suggestion"),
    ("praise", "表扬", "Praise"),
];

const URGENCY: Vocab =
    &[("normal", "一般", "Normal"), ("urgent", "紧急", "Urgent"), ("emergency", "特急", "Emergency")];

const CHANNEL: Vocab = &[
    ("phone", "电话", "Phone"),
    ("web", "网站", "Web"),
    ("app", "App", "App"),
    ("wechat", "微信", "WeChat"),
    ("email", "邮件", "Email"),
    ("letter", "来信", "Letter"),
    ("open311", "Open311", "Open311"),
    ("media", "媒体", "Media"),
];

const SATISFACTION: Vocab = &[
    ("satisfied", "满意", "Satisfied"),
    ("basically_satisfied", "基本满意", "Basically satisfied"),
    ("unsatisfied", "不满意", "Unsatisfied"),
    ("unreachable", "联系不上", "Unreachable"),
];

const CLOSE_KIND: Vocab = &[
    ("answered", "咨询答复", "Answered"),
    ("referred", "转介其他渠道", "Referred elsewhere"),
    ("emergency_transferred", "转紧急救援", "Transferred to emergency services"),
    ("not_accepted", "不予受理", "Not accepted"),
];

const ROLE: Vocab = &[
    ("admin", "管理员", "Admin"),
    ("operator", "话务员", "Operator"),
    ("reviewer", "审核员", "Reviewer"),
    ("dispatcher", "派单员", "Dispatcher"),
    ("handler", "承办人", "Handler"),
    ("unit_admin", "单位管理员", "Unit admin"),
    ("callback", "回访员", "Callback agent"),
    ("supervisor", "督办员", "Supervisor"),
    ("leader", "领导", "Leader"),
];

const UNIT_KIND: Vocab = &[
    ("hotline_centre", "热线中心", "Hotline centre"),
    ("dispatch_centre", "派单中心", "Dispatch centre"),
    ("department", "市直部门", "City departments"),
    ("district", "区政府", "District governments"),
    ("street", "街道办事处", "Street offices"),
    ("company", "公共服务企业", "Utilities and companies"),
];

/// Names of request fields, as the API's 422 names them.
const FIELD: Vocab = &[
    ("channel", "渠道", "channel"),
    ("request_type", "诉求类型", "request type"),
    ("category", "分类", "category"),
    ("urgency", "紧急程度", "urgency"),
    ("title", "标题", "title"),
    ("content", "内容", "content"),
    ("caller", "来电人", "caller"),
    ("caller.phone", "来电号码", "phone"),
    ("caller.name", "姓名", "name"),
    ("caller.confidential", "保密", "confidential"),
    ("location", "地点", "place"),
    ("location.street", "街道", "street"),
    ("location.district", "区", "district"),
    ("location.address", "详细地址", "address"),
    ("location.lat", "纬度", "latitude"),
    ("location.lon", "经度", "longitude"),
    ("resolution", "答复内容", "answer"),
    ("kind", "办结方式", "closed as"),
    ("reason", "原因", "reason"),
    ("lead_unit", "主办单位", "lead unit"),
    ("assisting_units", "协办单位", "assisting units"),
    ("unit", "下级单位", "sub-unit"),
    ("note", "备注", "note"),
    ("until", "延期至", "until"),
    ("approve", "审批", "decision"),
    ("solved", "是否解决", "solved"),
    ("satisfaction", "满意度", "satisfaction"),
    ("into", "合并到", "merge into"),
    ("level", "督办级别", "level"),
    ("text", "备注内容", "note"),
    ("version", "版本", "version"),
    ("phone", "来电号码", "phone"),
];

/// Field messages of the API that have a Chinese rendering; others are shown as they are.
const MESSAGE_ZH: &[(&str, &str)] = &[
    ("is required", "必填"),
    ("must not be empty", "不能为空"),
    ("is already the order's own: nothing to correct", "与工单现有内容相同，没有需要更正的内容"),
    (
        "give at least one of category, request_type, urgency or location to correct",
        "请至少更正分类、诉求类型、紧急程度或地点中的一项",
    ),
    ("must be in the future", "必须晚于当前时间"),
    ("must be later than the current deadline", "必须晚于当前办理期限"),
    ("must be 1, 2 or 3", "只能是 1、2 或 3"),
    ("must be true or false", "请选择是或否"),
    ("must be a string", "格式不正确"),
    ("must be an integer", "必须是整数"),
    ("an order cannot be merged into itself", "不能合并到自身"),
    ("is not a sub-unit of the lead unit", "不是主办单位的下级单位"),
    ("is already the lead unit", "已是主办单位"),
    ("is listed twice", "重复选择"),
    ("cannot handle orders", "不能承办工单"),
    ("is a group; choose one of its leaf categories", "是分类组，请选择具体分类"),
    ("unknown category", "未知分类"),
    ("unknown street", "未知街道"),
    ("unknown unit", "未知单位"),
    ("not a street", "不是街道"),
    ("is not a valid phone number", "不是有效的电话号码（5–20 位数字）"),
    ("must be at most", "过长"),
    ("must be within", "超出允许的延期范围"),
    ("must be an RFC 3339 time", "请选择日期和时间"),
    ("the requested date has already passed", "申请的日期已过，请不同意并让单位重新申请"),
    ("is not one of", "请从列表中选择"),
    ("merge into an open order", "只能合并到未办结的工单"),
    ("no order", "工单不存在"),
    // admin console
    ("already exists", "已存在"),
    ("is not a valid username", "用户名格式不正确（2–64 位字母、数字或 . - _ @）"),
    ("is not a valid unit code", "单位编码格式不正确（小写字母、数字、- . _）"),
    ("is not a valid category code", "分类编码格式不正确（小写字母、数字、- . _）"),
    ("is not a valid jurisdiction code", "区划代码格式不正确（最多 12 位数字）"),
    ("is not a time limit", "时限格式不正确，应写作 5wd（工作日）、8wh（工作小时）、2h（小时）或 30m（分钟）"),
    ("must be between 1 and 10000", "时限须在 1 到 10000 之间"),
    ("; one of:", "请从列表中选择"),
    ("unknown parent", "上级不存在"),
    ("unknown jurisdiction", "区划不存在"),
    ("would be its own ancestor", "会形成循环（不能隶属于自己的下级）"),
    ("cannot become a group", "已有工单使用该分类，不能变为分类组"),
    ("give a district or a street", "请选择区或街道"),
    ("cannot lie directly under", "层级不符：不能直接隶属于该上级"),
    ("needs a parent", "需要选择上级"),
    ("the city has no parent", "市级区划没有上级"),
    ("there is already a city", "已有市级区划"),
    ("duplicate", "与文件中其他行重复"),
    ("must not contain control characters", "不能包含控制字符"),
    ("is not true or false", "应为 true 或 false"),
    ("give at least one role", "至少选择一个角色"),
    ("unknown role", "未知角色"),
    ("needs a unit", "承办人和单位管理员必须属于一个单位"),
    ("at least 8 characters", "至少 8 个字符"),
    ("unknown column", "未知的列"),
    ("the required column", "缺少必需的列"),
    ("cells, the header", "该行的单元格数与表头不一致"),
    ("not valid JSON", "不是有效的 JSON"),
    ("a JSON import is an array", "JSON 导入须为对象数组"),
    ("each item must be an object", "每一项都须为对象"),
    ("not UTF-8", "文件不是 UTF-8 编码"),
    ("is given twice", "列名重复"),
    ("header row", "缺少或无法读取表头行"),
    ("is not a number", "不是数字"),
    ("is not a time", "时间格式不正确"),
    ("lat and lon go together", "纬度和经度须同时填写"),
];

fn vocab(v: Vocab, lang: Lang, wire: &str) -> String {
    match v.iter().find(|(w, _, _)| *w == wire) {
        Some((_, zh, en)) => match lang {
            Lang::Zh => (*zh).to_owned(),
            Lang::En => (*en).to_owned(),
        },
        None => wire.to_owned(),
    }
}

impl Tr {
    pub fn new(lang: Lang) -> Tr {
        Tr { lang }
    }

    /// A UI string. An unknown key shows as itself (the template check catches it first).
    pub fn s(&self, key: &str) -> &'static str {
        match table().get(key) {
            Some((zh, en)) => match self.lang {
                Lang::Zh => zh,
                Lang::En => en,
            },
            None => {
                tracing::warn!(key, "missing console translation");
                "?"
            }
        }
    }

    pub fn is_en(&self) -> bool {
        self.lang == Lang::En
    }

    pub fn status(&self, s: &str) -> String {
        vocab(STATUS, self.lang, s)
    }
    pub fn action(&self, s: &str) -> String {
        vocab(ACTION, self.lang, s)
    }
    pub fn request_type(&self, s: &str) -> String {
        vocab(REQUEST_TYPE, self.lang, s)
    }
    pub fn urgency(&self, s: &str) -> String {
        vocab(URGENCY, self.lang, s)
    }
    pub fn channel(&self, s: &str) -> String {
        vocab(CHANNEL, self.lang, s)
    }
    pub fn satisfaction(&self, s: &str) -> String {
        vocab(SATISFACTION, self.lang, s)
    }
    pub fn close_kind(&self, s: &str) -> String {
        vocab(CLOSE_KIND, self.lang, s)
    }
    pub fn role(&self, s: &str) -> String {
        vocab(ROLE, self.lang, s)
    }
    pub fn unit_kind(&self, s: &str) -> String {
        vocab(UNIT_KIND, self.lang, s)
    }
    pub fn field(&self, s: &str) -> String {
        vocab(FIELD, self.lang, s)
    }

    /// An API field message in the console's language (English as the API gives it).
    pub fn field_message(&self, msg: &str) -> String {
        if self.lang == Lang::En {
            return msg.to_owned();
        }
        match MESSAGE_ZH.iter().find(|(en, _)| msg.contains(en)) {
            Some((_, zh)) => (*zh).to_owned(),
            None => msg.to_owned(),
        }
    }

    /// A time limit: `5wd` → 5个工作日 / 5 working days.
    pub fn limit(&self, l: TimeLimit) -> String {
        let en = self.lang == Lang::En;
        let plural = |n: u32| if n == 1 { "" } else { "s" };
        match l {
            TimeLimit::WorkingDays(n) if en => format!("{n} working day{}", plural(n)),
            TimeLimit::WorkingDays(n) => format!("{n}个工作日"),
            TimeLimit::WorkingHours(n) if en => format!("{n} working hour{}", plural(n)),
            TimeLimit::WorkingHours(n) => format!("{n}个工作小时"),
            TimeLimit::Hours(n) if en => format!("{n} hour{}", plural(n)),
            TimeLimit::Hours(n) => format!("{n}小时"),
            TimeLimit::Minutes(n) if en => format!("{n} minute{}", plural(n)),
            TimeLimit::Minutes(n) => format!("{n}分钟"),
        }
    }

    /// A span of time, roughly: `2天3小时` / `2d 3h`.
    pub fn span(&self, ms: i64) -> String {
        let mins = ms.abs() / 60_000;
        let (d, h, m) = (mins / 1440, (mins % 1440) / 60, mins % 60);
        let en = self.lang == Lang::En;
        if d > 0 {
            if en { format!("{d}d {h}h") } else { format!("{d}天{h}小时") }
        } else if h > 0 {
            if en { format!("{h}h {m}m") } else { format!("{h}小时{m}分") }
        } else if en {
            format!("{m}m")
        } else {
            format!("{m}分钟")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for (k, _, _) in STRINGS {
            assert!(seen.insert(*k), "duplicate key {k}");
        }
    }

    /// Every `t.s("…")` in a template names a key of the table.
    #[test]
    fn every_template_key_is_translated() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut missing = Vec::new();
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            for part in text.split("t.s(\"").skip(1) {
                let key = part.split('"').next().unwrap_or_default();
                if !has(key) {
                    missing.push(format!("{}: {key}", entry.file_name().to_string_lossy()));
                }
            }
        }
        assert!(missing.is_empty(), "untranslated keys: {missing:?}");
    }

    #[test]
    fn vocabularies_and_messages_translate() {
        let zh = Tr::new(Lang::Zh);
        let en = Tr::new(Lang::En);
        assert_eq!(zh.status("in_progress"), "办理中");
        assert_eq!(en.status("in_progress"), "In progress");
        assert_eq!(zh.field_message("must not be empty"), "不能为空");
        assert_eq!(en.field_message("must not be empty"), "must not be empty");
        assert_eq!(zh.limit(TimeLimit::WorkingDays(5)), "5个工作日");
        assert_eq!(en.span(26 * 3_600_000), "1d 2h");
    }
}
