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
    ("nav.logout", "退出", "Sign out"),
    ("nav.jump", "工单号", "Order no."),
    ("nav.jump_go", "打开", "Open"),
    ("nav.skip", "跳到主要内容", "Skip to content"),
    (
        "nav.keys",
        "快捷键：Alt+数字 切换页面 · / 工单号 · j/k 上下行 · Enter 打开",
        "Keys: Alt+digit pages · / order no. · j/k rows · Enter opens",
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
    // Generic.
    ("common.none", "—", "—"),
    ("common.yes", "是", "Yes"),
    ("common.no", "否", "No"),
    ("common.open", "打开", "Open"),
    ("common.count", "条", "items"),
    ("common.more", "更多操作", "More actions"),
    ("common.next", "下一页", "Next page"),
    ("common.first", "第一页", "First page"),
    ("common.empty", "暂无工单。", "No orders."),
    ("common.filter", "筛选", "Filter"),
    ("common.all", "全部", "All"),
    ("common.confidential", "保密", "confidential"),
    ("common.hidden", "保密来电人（已隐藏）", "Confidential caller (hidden)"),
    ("common.overdue", "超期", "Overdue"),
    ("common.at_risk", "临期", "At risk"),
    ("common.on_time", "正常", "On time"),
    ("common.filter_units", "输入以筛选单位…", "Type to filter units…"),
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
    ("intake.street", "街道", "Street"),
    ("intake.street_ph", "输入街道名或拼音首字母", "Type a street name or pinyin initials"),
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
    ("order.version", "版本", "Version"),
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
    ("f.assisting_units", "协办单位（可多选，Ctrl+单击）", "Assisting units (several with Ctrl+click)"),
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
    ("btn.reopen", "重办", "Reopen"),
    ("btn.merge", "合并", "Merge"),
    ("btn.cancel", "作废", "Cancel the order"),
    ("btn.urge", "督办", "Urge"),
    ("btn.note", "添加备注", "Add a note"),
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
    // Errors.
    ("err.title", "操作未执行", "Not done"),
    ("err.title_not_found", "未找到", "Not found"),
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
