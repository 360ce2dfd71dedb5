"""The starter question bank (GIFT) shipped as demo data: the portal and life as a mobile member.

Kept as Python strings so it ships inside the package. Every question has an
``[id:…]`` so loading it again updates instead of duplicating.
"""

ZH = r"""
$CATEGORY: 每日答题/流动党员须知

// [id:zh-move-15] [tag:变动报告]
::变动报告时限::流动党员变更工作地点后，应在多少天内向党组织报告？{
=15天 #正确。变动后15天内报告，党组织才能及时掌握你的去向。
~30天 #不对，应在15天内报告。
~3个月 #太晚了，应在15天内报告。
~不需要报告 #需要报告，这是流动党员的基本义务。
####在门户的“流动”栏目中填写变动报告即可。}

// [id:zh-leave-report] [tag:外出登记]
::外出前报告::党员外出务工前，应向党支部说明外出原因、时间、去向和联系方式。{T#外出前必须报告，这样支部才能联系到你。#对，外出登记是流动党员管理的第一步。}

// [id:zh-certificate-review] [tag:流动党员活动证]
::活动证审核::《流动党员活动证》多久审核一次？{
=每年一次
~每月一次
~每三年一次
~从不审核
####活动证由党支部每年审核一次。}

// [id:zh-certificate-show] [tag:流动党员活动证] [tag:报到]
::到流入地报到::到达流入地后，流动党员应持活动证向流入地党组织报到。{TRUE}

// [id:zh-transfer-6m] [tag:组织关系转接]
::转接组织关系::在外地固定地点工作超过几个月，一般应转接组织关系？{#6}

// [id:zh-dues-backpay] [tag:党费]
::补缴党费::对经常流动的党员，补缴党费一次一般不超过几个月？{
~1个月
=3个月
~6个月
~12个月}

// [id:zh-dues-tier] [tag:党费]
::党费比例::月收入4000元的党员，按月交纳党费的比例是多少？{
~0.5%
=1%
~1.5%
~2%
####月收入3000元以上至5000元（含）的，交纳1%。}

// [id:zh-six-months] [tag:党费] [tag:组织生活]
::连续六个月::无正当理由，连续6个月不参加党的组织生活、不交纳党费、不做党所分配的工作，就被认为是自行脱党。{T}

// [id:zh-contact-yearly] [tag:思想汇报]
::至少每年::流动党员至少每年要以书面形式向党组织汇报一次思想和工作情况。{TRUE}

// [id:zh-host-3m] [tag:流入地党组织]
::流入地登记::持活动证在流入地居住满几个月的流动党员，应被编入流入地党支部或党小组？{#3}

// [id:zh-stages] [tag:发展党员]
::发展程序::下面哪些属于发展党员的阶段？{
~%33.33333%入党积极分子
~%33.33333%发展对象
~%33.33334%预备党员
~%-100%流动党员}

// [id:zh-portal-daily] [tag:门户]
::每日答题::在本门户“每日答题”中，每天可以得分几次？{
=一次 #对，每天只计一次成绩。
~三次
~不限次数}

// [id:zh-return] [tag:返回登记]
::返乡报告::流动党员返回家乡后，应向____报告。{
=流出地党支部
=原党支部
=党支部}

// [id:zh-match-words] [tag:门户]
::对应词语::把下列情形和应办理的手续对应起来。{
=外出6个月以上且地点固定 -> 转接组织关系
=外出不足6个月且地点固定 -> 开具组织关系介绍信
=外出没有固定地点 -> 持流动党员活动证
}
"""

EN = r"""
$CATEGORY: Daily quiz/Mobile members

// [id:en-move-15] [tag:location change]
::Report a move::A mobile member who changes their place of work must tell the branch within how many days? {
=15 days #Right. Report within 15 days so your branch knows where you are.
~30 days #No: within 15 days.
~3 months #Too late: within 15 days.
~There is no need to report #You must report it.
}

// [id:en-certificate] [tag:certificate]
::Certificate review::How often is the mobile member activity certificate reviewed? {
=Once a year
~Once a month
~Never
}

// [id:en-checkin] [tag:check-in]
::Check in::On arrival, a mobile member shows the activity certificate at the host branch.{T}

// [id:en-transfer] [tag:transfer]
::Transfer::After how many months away at a fixed place should a member transfer their membership? {#6}

// [id:en-dues-backpay] [tag:dues]
::Paying dues late::Dues may be paid back for at most how many months at a time? {#3}

// [id:en-dues-rate] [tag:dues]
::Dues rate::A member earns 4 000 yuan a month. What share of it are the monthly dues? {
~0.5%
=1%
~2%
}

// [id:en-report-yearly] [tag:reports]
::Written report::Mobile members report in writing to their branch at least once a year.{TRUE#At least once a year, and quarterly in many places.#Yes.}

// [id:en-daily] [tag:portal]
::Daily quiz::How many scored daily quizzes can a member do in one day? {=one =1 =once}
"""
