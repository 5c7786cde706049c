"""A CPPCC research consultation walked from the annual plan to the outcome report in real Chromium, on a phone
(390x844) and at a desk (1280x800): 吴忠市政协办公室 makes the plan and the topic with its research group, the
member sees the guard lock visits until the training, records the training, a visit, a symposium, the problem
list and a recommendation, 吴忠市住建局 answers its referred problem on its own page, the office follows up, and
the report page links its downloads. Runs on the demo (tests/browser/conftest.py); screenshots under
tests/artifacts/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core import clock
from tests.browser.conftest import DESK, PHONE_390, no_horizontal_scroll, shot, sign_in

SLUG = "wuzhong"
OFFICE, MEMBER, DEPARTMENT = "wuzhong_admin", "wuzhong_cppcc", "wuzhong_zhujian"
# The walk enters one bad form on purpose: its 422 (as a response and as the console's note of it) is expected.
REFUSED = ("HTTP 422", "status of 422")






def submit(page, form: str) -> None:  # type: ignore[no-untyped-def]
    with page.expect_navigation():
        page.locator(f"{form} button[type=submit]").click()


@pytest.mark.parametrize("size", ["phone", "desk"])
def test_a_topic_from_the_plan_to_the_report(new_page, size: str) -> None:  # type: ignore[no-untyped-def]
    viewport = PHONE_390 if size == "phone" else DESK
    year = clock.today().year - (1 if size == "phone" else 0)  # each walk makes its own plan; the demo's is 2024
    title = f"老旧小区加装电梯（{size}）"
    today = clock.today().isoformat()

    # The office: the annual plan, then the topic with its research group picked by name.
    office, office_problems = new_page(viewport)
    sign_in(office, OFFICE, SLUG)
    office.goto(f"/t/{SLUG}/cppcc")
    expect(office.locator("#plan-2024")).to_contain_text("吴忠市政协2024年度协商计划")
    office.fill("#plan-year", str(year))
    office.fill("#plan-title", f"吴忠市政协{year}年度协商计划")
    submit(office, "#plan-form")
    expect(office.locator("#done")).to_have_text("年度协商计划已制定。")
    plan = office.locator(f"#plan-{year}")
    plan.locator("summary").click()
    plan.locator("input[name=title]").fill(title)
    plan.get_by_label("吴忠市政协委员").check()
    submit(office, f"#topic-form-{year}")
    expect(office.locator("h1")).to_have_text(title)
    expect(office.locator("main")).to_contain_text("调研组: 吴忠市政协委员")
    topic_url = office.url.split("?")[0]
    assert no_horizontal_scroll(office), f"the topic page scrolls sideways at {size} size"

    # The member: the guard locks visits until the training; a refused form keeps what was typed.
    member, member_problems = new_page(viewport)
    sign_in(member, MEMBER, SLUG)
    member.goto(topic_url)
    expect(member.locator("#guard")).to_contain_text("不学习就不调研、不调研就不协商")
    expect(member.locator("#guard-visit")).to_contain_text("未解锁")
    expect(member.locator("#visit-locked")).to_be_visible()
    expect(member.locator("#visit-form")).to_have_count(0)
    shot(member, f"cppcc-guard-{size}")
    member.fill("#training-date", today)
    member.fill("#training-title", "")
    submit(member, "#training-form")
    expect(member.locator("#training-form .error").first).to_be_visible()
    expect(member.locator("#training-form")).to_contain_text("学习内容不能为空")
    assert member.input_value("#training-date") == today
    member.fill("#training-title", "加装电梯政策专题培训")
    submit(member, "#training-form")
    expect(member.locator("#done")).to_have_text("学习培训已记录。")
    expect(member.locator("#guard-visit")).to_contain_text("可进行")

    # A visit to a community of the tree below, picked by name.
    member.locator("#visit-add > summary").click()
    member.select_option("#visit-community", label="利通区 · 胜利镇 · 上桥社区")
    member.fill("#visit-date", today)
    member.fill("#visit-compounds", "老干部楼小区、上桥新村")
    member.fill("#visit-findings", "多层住宅无电梯，老年住户出行难")
    submit(member, "#visit-form")
    expect(member.locator("#visit")).to_contain_text("上桥社区")
    expect(member.locator("#guard-consult")).to_contain_text("可进行")

    # A symposium with one stakeholder group, and what each said.
    member.locator("#symposium-add > summary").click()
    member.select_option("#symposium-group", label="业主代表")
    member.fill("#symposium-date", today)
    member.fill("#symposium-participants", "9")
    member.fill("#symposium-statements", "低层业主：担心采光和噪音\n高层业主：愿意多分摊费用")
    submit(member, "#symposium-form")
    expect(member.locator("#symposium")).to_contain_text("低层业主: 担心采光和噪音")

    # The problem list: a common problem in an aspect, an individual one referred to 吴忠市住建局.
    member.locator("#problem-add > summary").click()
    member.fill("#problem-text", "加装电梯费用分摊难以达成一致")
    member.fill("#problem-aspect", "协调机制")
    submit(member, "#problem-form")
    member.locator("#problem-add > summary").click()
    member.fill("#problem-text", f"老干部楼小区3号楼加装电梯审批卡在管线迁改（{size}）")
    member.locator("#problem-form input[value=individual]").check()
    member.select_option("#problem-department", label="吴忠市住建局")
    submit(member, "#problem-form")
    expect(member.locator("#done")).to_have_text("问题已列入清单，并已交办责任部门。")
    expect(member.locator("#problem")).to_contain_text("吴忠市住建局")

    # A recommendation linked to the common problem.
    member.locator("#recommendation-add > summary").click()
    member.fill("#recommendation-text", "建立加装电梯费用分摊指导标准")
    member.locator("#recommendation-form details summary").first.click()
    member.get_by_label("加装电梯费用分摊难以达成一致").check()
    submit(member, "#recommendation-form")
    expect(member.locator("#recommendation")).to_contain_text("对应 1 个问题 · 协调机制")
    assert no_horizontal_scroll(member), f"the topic page scrolls sideways at {size} size"
    shot(member, f"cppcc-topic-{size}")

    # The department answers on its own page.
    department, department_problems = new_page(viewport)
    sign_in(department, DEPARTMENT, SLUG)
    department.goto(f"/t/{SLUG}/cppcc")
    department.get_by_role("link", name="答复交办问题").click()
    card = department.locator("article.card", has_text=f"审批卡在管线迁改（{size}）")
    card.locator("textarea").fill("已协调供水、燃气单位一并迁改管线")
    with department.expect_navigation():
        card.locator("button[type=submit]").click()
    expect(department.locator("#done")).to_have_text("答复已记录。")
    assert no_horizontal_scroll(department), f"the department's page scrolls sideways at {size} size"

    # The office follows up adoption, and the report page shows it all and links its downloads.
    office.goto(topic_url)
    item = office.locator("#recommendation li", has_text="建立加装电梯费用分摊指导标准")
    item.locator("details", has_text="记录采纳情况").locator("summary").click()
    item.get_by_label("已采纳").check()
    item.locator("textarea").fill("市住建局已起草指导标准")
    with office.expect_navigation():
        item.locator("button[type=submit]").click()
    expect(office.locator("#done")).to_have_text("采纳情况已记录。")
    office.click("#report-link")
    report = office.locator("#report")
    expect(report.locator("h1")).to_have_text(f"吴忠市政协 {year} 年专题协商成果报告：{title}")
    for seen in ("吴忠市政协委员", "上桥社区", "低层业主", "已协调供水、燃气单位一并迁改管线", "市住建局已起草指导标准"):
        expect(report).to_contain_text(seen)
    for link in ("#report-md", "#report-docx"):
        response = office.request.get(office.locator(link).get_attribute("href"))
        assert response.status == 200, link
    assert office.request.get(office.locator("#report-docx").get_attribute("href")).body()[:2] == b"PK"
    assert no_horizontal_scroll(office), f"the report scrolls sideways at {size} size"
    shot(office, f"cppcc-report-{size}")

    seen = [m for p in (office_problems, member_problems, department_problems) for m in p.messages
            if not any(expected in m for expected in REFUSED)]
    assert not seen, "\n".join(seen)
