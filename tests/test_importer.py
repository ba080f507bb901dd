"""The gazette importer: assignment forms, documents, targets, output, the CLI, and agreement
with the curated registry (`tasks.yaml`)."""

import io
import os
import time
from pathlib import Path

import pytest
import yaml

from taskbot.diagnostics import normalize_name
from taskbot.importer import cli_import, dump_registry, import_text
from taskbot.importer.assign import parse_roles, split_names
from taskbot.units import Group, Unit, UnitDirectory

ROOT = Path(__file__).resolve().parent.parent
FIX = Path(__file__).resolve().parent / "fixtures" / "import"
GAZETTE = ROOT / "data" / "gazette-zhengzhou-2018-08.txt"
TASK_KEYS = ["id", "doc", "ref", "title", "detail", "lead", "responsible", "cooperating", "due",
             "due_text", "milestones", "every", "kind", "source_line"]


def units():
    names = ["市规划局", "市城管局", "市城建委", "市水务局", "市卫计委", "市发展改革委", "市人社局", "市民政局",
             "市旅游局", "市体育局", "市数字办", "市财政局", "市工信委", "市政务服务中心"]
    us = [Unit(n, "某某" + n, (n[1:],), "department") for n in names]
    us += [Unit("甲县", "甲县", (), "district"), Unit("乙区", "乙区", (), "district")]
    groups = [Group("各县(市、区)政府", ("各县(市、区)人民政府",), ("甲县", "乙区")),
              Group("各开发区管委会", (), ()), Group("市政府有关部门", (), ())]
    return UnitDirectory(us, groups)


def load(name, directory=None):
    return import_text((FIX / name).read_text(encoding="utf-8"), directory)


def by_title(result, prefix):
    hits = [t for t in result.tasks if t["title"].startswith(prefix)]
    assert hits, f"no task titled {prefix!r} in {[t['title'] for t in result.tasks]}"
    return hits[0]


# ------------------------------------------------------------------ assignment forms, table-driven

ROLE_CASES = [
    ("(市卫计委牵头,市发展改革委、市人社局按职责分工负责)", False, ["市卫计委"], ["市发展改革委", "市人社局"], []),
    ("市数字办牵头,市政府有关部门,各县(市、区)政府按照行政职责分工负责", False, ["市数字办"],
     ["市政府有关部门", "各县(市、区)政府"], []),
    ("市数字办牵头,市政府有关部门按照行政职责分工负责,某某一卡通公司配合", False, ["市数字办"], ["市政府有关部门"],
     ["某某一卡通公司"]),
    ("(市卫计委负责)", False, ["市卫计委"], [], []),
    ("(各县〔市、区〕政府负责)", False, ["各县(市、区)政府"], [], []),
    ("(市公安局牵头会同市文广新局、体育局负责)", False, ["市公安局"], [], ["市文广新局", "市体育局"]),
    ("(市卫计委、市科技局、市工信委按职责分工负责)", True, ["市卫计委"], ["市科技局", "市工信委"], []),
    ("(市卫计委、市科技局按职责分工负责)", False, ["市卫计委", "市科技局"], [], []),
    ("(市工商局牵头,各县〔市、区〕政府、开发区管委会配合)", False, ["市工商局"], [],
     ["各县(市、区)政府", "开发区管委会"]),
    ("(市文广新局牵头负责)", False, ["市文广新局"], [], []),
]


@pytest.mark.parametrize("text,first_lead,lead,resp,coop", ROLE_CASES)
def test_assignment_clauses(text, first_lead, lead, resp, coop):
    r = parse_roles(text, first_lead)
    assert (r.lead, r.responsible, r.cooperating) == (lead, resp, coop)


@pytest.mark.parametrize("text,names", [
    ("市发展改革委、财政局", ["市发展改革委", "市财政局"]),
    ("市文广新局、文物局及各县〔市、区〕政府", ["市文广新局", "市文物局", "各县(市、区)政府"]),
    ("各县 (市、区) 政府, 各开发区管委会", ["各县(市、区)政府", "各开发区管委会"]),
    ("市住房和城乡建设局", ["市住房和城乡建设局"]),
    ("省发展改革委、省工业和信息化厅,各市、县人民政府", ["省发展改革委", "省工业和信息化厅", "各市、县人民政府"]),
    ("省财政厅、自然资源厅", ["省财政厅", "省自然资源厅"]),
    ("县教育局、财政局", ["县教育局", "县财政局"]),
])
def test_split_names(text, names):
    assert split_names(text.replace(" ", "")) == names


FORM_CASES = [
    # fixture, title prefix, lead, responsible, cooperating, due, due_text, every
    ("fields.txt", "编制完成垃圾专项规划", ["市规划局", "市城管局"], [], ["各县(市、区)政府", "各开发区管委会"],
     "2019-12-31", "2019年12月", None),
    ("fields.txt", "加强竖向设计管理", ["市规划局"], ["市城建委", "市水务局"], [], None, "试点全程", None),
    ("fields.txt", "开展存量排查", ["市城管局"], ["各县(市、区)政府"], [], None, "每年6月底前", "yearly:06-30"),
    ("brackets.txt", "鼓励发展全科医疗服务", ["市卫计委"], ["市发展改革委", "市人社局"], [], "2019-12-31", "2019年底前", None),
    ("brackets.txt", "支持发展紧缺医疗服务", ["市卫计委"], [], [], None, None, None),
    ("brackets.txt", "加强县域医疗服务", ["各县(市、区)政府"], [], [], "2019-06-30", "2019年6月底前", None),
    # the document says the first-listed unit leads
    ("brackets.txt", "推动多业态融合", ["市卫计委"], ["市民政局", "市旅游局"], [], None, None, None),
    ("brackets.txt", "促进医疗与体育融合", ["市体育局"], [], ["市卫计委"], "2019-06-30", "上半年完成", None),
    ("sentences.txt", "专人全程辅导咨询", ["市工信委"], [], ["市政务服务中心", "相关审批职能部门"], None, None, None),
    ("sentences.txt", "完成存量治理", ["各县(市、区)政府"], [], [], "2019-09-30", "2019年9月底前", None),
    ("sentences.txt", "加强督导", ["市城管局"], [], [], None, "每季度", "quarterly"),
    ("sentences.txt", "一卡通工程", ["市数字办"], ["市政府有关部门"], ["某某一卡通公司"], "2020-12-31", "2020年完成", None),
    ("sentences.txt", "整合服务热线", ["市长电话室"], ["市政府有关部门"], [], None, "长期坚持", None),
]


@pytest.mark.parametrize("fixture,title,lead,resp,coop,due,due_text,every", FORM_CASES)
def test_assignment_forms_in_context(fixture, title, lead, resp, coop, due, due_text, every):
    t = by_title(load(fixture), title)
    assert (t["lead"], t["responsible"], t["cooperating"]) == (lead, resp, coop)
    assert (str(t["due"]) if t["due"] else None, t["due_text"], t["every"]) == (due, due_text, every)
    assert t["kind"] == "task"


def test_one_item_with_two_brackets_gives_two_tasks():
    r = load("brackets.txt")
    refs = [t["ref"] for t in r.tasks if t["ref"] == "一(四)"]
    assert len(refs) == 2


def test_fields_document_and_sections():
    r = load("fields.txt")
    assert r.documents == [{"number": "某政文〔2019〕12号", "title": "某某市人民政府关于印发某某市垃圾治理试点工作实施方案的通知",
                            "plan_title": "某某市垃圾治理试点工作实施方案", "issued": __import__("datetime").date(2019, 3, 5),
                            "issuer": "某某市人民政府"}]
    assert [t["ref"] for t in r.tasks] == ["一(一)1", "一(一)2", "一(一)3"]
    assert [t["id"] for t in r.tasks] == ["mzw12-01", "mzw12-02", "mzw12-03"]
    assert [t["source_line"] for t in r.tasks] == [19, 31, 45]
    assert all(list(t) == TASK_KEYS for t in r.tasks)
    assert not any("公报" in (t["detail"] or "") for t in r.tasks)  # page headers are gone


def test_milestones_and_goal():
    r = load("sentences.txt")
    t = by_title(r, "提升市政务云平台服务保障能力")
    assert [(str(m["due"]), m["title"]) for m in t["milestones"]] == [
        ("2019-12-31", "完成招标和建设任务"), ("2020-12-31", "完成40%的系统迁移"), ("2021-12-31", "完成80%的系统迁移")]
    assert str(t["due"]) == "2021-12-31"
    assert t["responsible"] == ["市发展改革委", "市财政局", "各县(市、区)政府"]
    goal = [t for t in r.tasks if t["kind"] == "goal"]
    assert len(goal) == 1 and str(goal[0]["due"]) == "2021-12-31"
    assert goal[0]["lead"] == goal[0]["responsible"] == goal[0]["cooperating"] == []
    assert by_title(r, "整合服务热线")["ref"] == "二5二是"


def test_indicator_annex_targets():
    r = load("targets.txt")
    assert [(t["lead"], t["ref"], t["title"], str(t["due"]), t["kind"]) for t in r.tasks] == [
        (["甲县"], "附件甲县一1", "地区生产总值增长8.5%", "2019-12-31", "target"),
        (["甲县"], "附件甲县一2", "规模以上工业增加值增长9%", "2019-12-31", "target"),
        (["甲县"], "附件甲县二3", "科技经费支出占财政支出比重为1.5%", "2019-12-31", "target"),
        (["乙区"], "附件乙区一1", "地区生产总值增长7%", "2019-12-31", "target"),
        (["乙区"], "附件乙区一2", "一般公共预算收入26.79亿元,增长7%", "2019-12-31", "target"),
    ]


def test_unit_resolution_and_unresolved():
    r = load("brackets.txt", units())
    t = by_title(r, "加强县域医疗服务")
    assert t["lead"] == ["各县(市、区)政府"]
    assert r.unresolved == {}
    r = load("sentences.txt", units())
    assert r.unresolved == {"某某一卡通公司": 1, "市长电话室": 1, "相关审批职能部门": 1}
    assert "unresolved names: 3" in r.summary()
    # without a directory every name is kept as printed and listed
    assert load("sentences.txt").unresolved == {
        "市数字办": 2, "市政府有关部门": 2, "市发展改革委": 1, "市财政局": 1, "各县(市、区)政府": 2, "市工信委": 1,
        "市政务服务中心": 1, "相关审批职能部门": 1, "市城管局": 1, "某某一卡通公司": 1, "市长电话室": 1}


def test_summary_lines():
    s = load("sentences.txt").summary()
    for words in ("documents: 1", "tasks: 7 (task 6, goal 1, target 0)", "dated: 4", "with milestones: 1",
                  "recurring: 1", "unresolved names: 11 (14 mentions)"):
        assert words in s
    assert "no assigned items found" in load("notasks.txt").summary()


def test_dump_is_accepted_by_check(tmp_path):
    from taskbot.registry import check_files
    results = [load(f) for f in ("fields.txt", "brackets.txt", "sentences.txt", "targets.txt")]
    names = {}
    for r in results:
        for t in r.tasks:
            for n in t["lead"] + t["responsible"] + t["cooperating"]:
                names.setdefault(normalize_name(n), n)
    (tmp_path / "units.yaml").write_text(yaml.safe_dump(
        {"units": [{"name": n, "kind": "other"} for n in names.values()]}, allow_unicode=True), encoding="utf-8")
    for k, r in enumerate(results):
        text = dump_registry(r)
        assert "due: 2019-12-31" in text or k == 1 or "due: 2021-12-31" in text
        path = tmp_path / f"tasks{k}.yaml"
        path.write_text(text, encoding="utf-8")
        registry, diags = check_files(str(path), str(tmp_path / "units.yaml"))
        assert registry is not None, "\n".join(map(str, diags))
        assert len(registry.tasks) == len(r.tasks)


# ------------------------------------------------------------------ other governments' styles, table-driven
# Six documents written in the styles of other city, provincial and county gazettes: flattened task
# tables, full-width inline brackets with semicolons, 【label】 fields, `A牵头,B配合` sentences, articles
# (第一条) with the unit as subject, ①/(1) numbering, plan goals, dates in Chinese numerals at the end.

STYLE_DOCS = [
    # fixture, number, issued, plan_title, tasks
    ("table.txt", "某政办〔2021〕12号", "2021-03-05", "某某市2021年优化营商环境重点任务分工方案", 8),
    ("inline.txt", "某政〔2021〕8号", "2021-04-12", "某某省数字经济发展三年行动计划(2021—2023年)", 8),
    ("labels.txt", "某政办〔2022〕5号", "2022-02-28", "某某县2022年农村人居环境整治提升实施方案", 6),
    ("rules.txt", "某政〔2020〕15号", "2020-07-20", "某某市政府投资项目管理办法", 5),
    ("circled.txt", "某政办〔2023〕31号", "2023-02-10", "某某市城市更新行动工作要点", 7),
    ("goals.txt", "某政〔2021〕40号", "2021-11-08", "某某市“十四五”生态环境保护规划", 8),
]


@pytest.mark.parametrize("fixture,number,issued,plan_title,n", STYLE_DOCS)
def test_style_documents(fixture, number, issued, plan_title, n):
    r = load(fixture)
    assert [(d["number"], str(d["issued"]), d["plan_title"]) for d in r.documents] == [(number, issued, plan_title)]
    assert len(r.tasks) == n, [t["title"] for t in r.tasks]
    assert all(t["doc"] == number and list(t) == TASK_KEYS for t in r.tasks)


STYLE_CASES = [
    # fixture, ref, title prefix, kind (t/g), lead, responsible, cooperating,
    #  due, due_text, every, milestones
    # table.txt
    ('table.txt', '一', '全市营商环境便利度明', 'g', [], [], [],
     '2021-12-31', '2021年底', None, []),
    ('table.txt', '三(一)', '加强组织领导', 't', ['市优化营商环境工作领导小组办公室'], [], [],
     None, None, None, []),
    ('table.txt', '三(二)', '强化督查考核', 't', ['市政府督查室'], [], [],
     None, '每月5日前', 'monthly:5', []),
    ('table.txt', '附件/1', '推行企业开办“一网通', 't', ['市市场监管局'], ['市公安局', '市税务局', '市人社局'], [],
     '2021-06-30', '2021年6月底前', None, []),
    ('table.txt', '附件/2', '开展工程建设项目审批', 't', ['市住房城乡建设局'], ['市自然资源和规划局', '市发展改革委'], [],
     '2021-12-31', '2021年6月—12月', None, []),
    ('table.txt', '附件/3', '推进不动产登记“一窗', 't', ['市自然资源和规划局'], ['市税务局', '各区县(市)人民政府'], [],
     '2021-09-30', '2021年第三季度', None, []),
    ('table.txt', '附件/4', '清理规范涉企收费,建', 't', ['市发展改革委'], ['市财政局'], [],
     None, '持续推进', None, []),
    ('table.txt', '附件/5', '开展营商环境评价,按', 't', ['市营商环境办'], ['各区县(市)人民政府', '市直有关部门'], [],
     None, '每季度末', 'quarterly', []),
    # inline.txt
    ('inline.txt', '一', '全省数字经济规模突破', 'g', [], [], [],
     '2023-12-31', '2023年底', None, []),
    ('inline.txt', '二(一)1', '推进5G网络建设', 't', ['省通信管理局'], ['省发展改革委', '省工业和信息化厅', '各市、县人民政府'], [],
     '2021-12-31', '2021年12月底前', None, []),
    ('inline.txt', '二(一)2', '建设省级大数据中心', 't', ['省大数据局'], ['省财政厅', '省自然资源厅'], [],
     '2022-06-30', '2022年6月底前', None, []),
    ('inline.txt', '二(二)1', '实施“上云用数赋智”', 't', [], ['省工业和信息化厅', '省科技厅'], [],
     None, '2021年起每年', 'yearly:12-31', []),
    ('inline.txt', '二(二)2', '培育数字经济示范园区', 't', [], ['省商务厅'], [],
     '2021-09-30', '2021年第三季度', None, []),
    ('inline.txt', '二(二)3', '发展智慧农业', 't', ['省农业农村厅'], [], ['省财政厅'],
     '2022-12-31', '2021年6月—2022年12月', None, []),
    ('inline.txt', '三(一)', '加强统计监测', 't', ['省统计局'], [], ['省大数据局'],
     None, '每半年', 'half-yearly', []),
    ('inline.txt', '三(二)', '强化资金保障', 't', ['省财政厅'], [], [],
     None, None, None, []),
    # labels.txt
    ('labels.txt', '附件1一1', '推进农村厕所革命', 't', [], ['县农业农村局', '县卫生健康局'], [],
     '2022-12-31', '年底前', None, []),
    ('labels.txt', '附件1一2', '治理农村生活污水', 't', ['县生态环境局'], [], ['县住建局', '各乡镇人民政府'],
     '2022-09-30', '2022年9月底前', None, []),
    ('labels.txt', '附件1一3', '提升村容村貌', 't', ['县农业农村局'], ['各乡镇人民政府'], [],
     None, '每季度末', 'quarterly', []),
    ('labels.txt', '附件1一4', '健全长效管护机制', 't', ['县农业农村局'], [], ['县财政局', '各乡镇人民政府'],
     None, '长期坚持', None, []),
    ('labels.txt', '附件1二(一)', '加强组织领导', 't', ['各乡镇人民政府', '县直有关部门'], [], [],
     None, None, None, []),
    ('labels.txt', '附件1二(二)', '强化督导考核', 't', ['县委督查室', '县政府督查室'], [], [],
     None, '每月5日前', 'monthly:5', []),
    # rules.txt
    ('rules.txt', '第三条', '建立政府投资项目储备', 't', ['市财政局'], [], ['市发展改革委'],
     None, '每年9月底前', 'yearly:09-30', []),
    ('rules.txt', '第五条', '政府投资项目农民工工', 't', ['市人社局'], [], [],
     None, None, None, []),
    ('rules.txt', '第六条', '依法对政府投资项目进', 't', ['市审计局'], [], [],
     None, '每季度', 'quarterly', []),
    ('rules.txt', '第七条', '项目建设质量安全监管', 't', ['市住房城乡建设局'], [], [],
     '2020-12-31', '2020年12月底前', None, []),
    ('rules.txt', '第八条', '本辖区、本行业政府投', 't', ['各县(市、区)人民政府', '市直有关部门'], [], [],
     None, None, None, []),
    # circled.txt
    ('circled.txt', '一(一)①', '完成老旧小区改造12', 't', ['市住房城乡建设局'], ['各区人民政府'], [],
     '2023-11-30', '6月底前、11月底前', None, [('2023-06-30', '全部开工'), ('2023-11-30', '基本完工')]),
    ('circled.txt', '一(一)②', '同步推进加装电梯,全', 't', ['市住房城乡建设局', '市市场监管局'], [], [],
     '2023-12-31', '2023年12月底前', None, []),
    ('circled.txt', '一(二)①', '推行“红色物业”,建', 't', ['市住房城乡建设局'], [], ['各区人民政府'],
     None, '持续推进', None, []),
    ('circled.txt', '一(二)②', '每季度开展一次小区环', 't', ['各区人民政府'], [], [],
     None, '每季度', 'quarterly', []),
    ('circled.txt', '二(1)', '建设口袋公园30个', 't', ['市城市管理局'], [], ['市自然资源和规划局'],
     '2023-10-31', '2023年10月底前', None, []),
    ('circled.txt', '二(2)', '开展城市体检评估,形', 't', ['市住房城乡建设局'], [], ['市统计局', '市大数据中心'],
     '2023-12-31', '2023年第四季度', None, []),
    ('circled.txt', '二(3)', '完成背街小巷整治年度', 't', ['各区'], [], [],
     '2023-08-31', '2023年8月底前', None, []),
    # goals.txt
    ('goals.txt', '一(一)', '生态环境质量持续改善', 'g', [], [], [],
     '2025-12-31', '2025年', None, []),
    ('goals.txt', '一(一)', '生态环境根本好转,美', 'g', [], [], [],
     '2035-12-31', '2035年', None, []),
    ('goals.txt', '一(二)', '细颗粒物(PM2.5', 'g', [], [], [],
     '2022-12-31', '2022年底前', None, []),
    ('goals.txt', '一(二)', '县级及以上城市集中式', 'g', [], [], [],
     '2023-12-31', '2023年', None, []),
    ('goals.txt', '一(二)', '地表水国控断面优良水', 'g', [], [], [],
     '2025-12-31', '2025年', None, []),
    ('goals.txt', '二(一)', '深入打好蓝天保卫战', 't', ['市生态环境局'], [], ['市工业和信息化局', '市发展改革委'],
     '2022-06-30', '2022年6月底前', None, []),
    ('goals.txt', '二(二)', '深入打好碧水保卫战', 't', ['市城市管理局'], [], [],
     None, '长期坚持', None, []),
    ('goals.txt', '三', '保障措施', 't', ['市生态环境局'], [], ['有关部门'],
     '2025-12-31', '2025年底前', 'yearly:12-31', []),
]


@pytest.mark.parametrize("fixture,ref,title,kind,lead,resp,coop,due,due_text,every,milestones", STYLE_CASES)
def test_style_tasks(fixture, ref, title, kind, lead, resp, coop, due, due_text, every, milestones):
    hits = [t for t in load(fixture).tasks if t["ref"] == ref and t["title"].startswith(title)]
    assert len(hits) == 1, f"{ref} {title!r}: {[(t['ref'], t['title']) for t in load(fixture).tasks]}"
    t = hits[0]
    assert t["kind"][0] == kind
    assert (t["lead"], t["responsible"], t["cooperating"]) == (lead, resp, coop)
    assert (str(t["due"]) if t["due"] else None, t["due_text"], t["every"]) == (due, due_text, every)
    assert [(str(m["due"]), m["title"]) for m in t["milestones"]] == milestones


# plan_forms.txt: a plan in 第X章/第X节 style with run-in goal paragraphs (`———服务供给。…`), indicator
# tables (one unnumbered, one with numbered rows), yearly targets broken down by unit
# (`…12个(其中甲县5个、乙区4个、丙市3个)`) and duty lists under `X职责` headings.
PLAN_FORM_CASES = [
    # ref, title, kind, lead, due, source_line
    ("第一章第二节", "服务供给", "goal", [], "2025-12-31", 14),
    ("第一章第二节", "服务质量", "goal", [], "2025-12-31", 17),
    ("第一章第二节", "专栏1养老服务主要指标", "goal", [], "2025-12-31", 20),
    ("第一章第二节", "医养结合机构数家60约束性", "goal", [], "2025-12-31", 26),
    ("第一章第二节", "老年人健康管理率%75预期性", "goal", [], "2025-12-31", 27),
    ("第二章", "2022年新建社区养老服务中心5个", "target", ["甲县"], "2022-12-31", 29),
    ("第二章", "2022年新建社区养老服务中心4个", "target", ["乙区"], "2022-12-31", 30),
    ("第二章", "2022年新建社区养老服务中心3个", "target", ["丙市"], "2022-12-31", 30),
    ("第二章", "2023年新建社区养老服务中心4个", "target", ["甲县"], "2023-12-31", 31),
    ("第二章", "2023年新建社区养老服务中心5个", "target", ["乙区"], "2023-12-31", 32),
    ("第三章一1", "负责全市养老服务设施布局规划的编制和实施", "task", ["市民政局"], None, 35),
    ("第三章一2", "负责养老机构等级评定", "task", ["市民政局"], None, 36),
    ("第三章二1", "落实社区养老服务用房", "task", ["各县(市、区)政府"], None, 38),
    ("第三章二2", "负责辖区养老机构安全监管", "task", ["各县(市、区)政府"], None, 39),
]


def test_plan_forms_all_items():
    r = load("plan_forms.txt")
    assert [(t["ref"], t["kind"], t["lead"], t["source_line"]) for t in r.tasks] == [
        (c[0], c[2], c[3], c[5]) for c in PLAN_FORM_CASES]
    # a run-in paragraph without a dated target is no goal; `领导小组及其办公室主要职责` names no unit
    assert not any(t["title"].startswith(("社会环境", "统筹协调")) for t in r.tasks)


@pytest.mark.parametrize("ref,title,kind,lead,due,line", PLAN_FORM_CASES)
def test_plan_forms(ref, title, kind, lead, due, line):
    hits = [t for t in load("plan_forms.txt").tasks if t["ref"] == ref and t["title"].startswith(title)]
    assert len(hits) == 1, [(t["ref"], t["title"]) for t in load("plan_forms.txt").tasks]
    t = hits[0]
    assert (t["kind"], t["lead"], str(t["due"]) if t["due"] else None, t["source_line"]) == (kind, lead, due, line)


def test_plan_forms_duty_terms_and_goal_years():
    r = load("plan_forms.txt")
    assert by_title(r, "负责养老机构等级评定")["every"] == "yearly:12-31"
    # a year range's start and `年均` are no terms; the run-in paragraph's last term year is its due
    from taskbot.importer.goals import duty_holder, term_years
    assert term_years("2016—2020年年均增长1.9%,2020年全市总人口1050万人,到2030年达到1300万", 2018) == [2020, 2030]
    assert duty_holder("市政务服务中心职责") == ["市政务服务中心"]
    assert duty_holder("各职能部门、提供公共服务的企事业单位职责") == ["各职能部门", "提供公共服务的企事业单位"]
    assert duty_holder("市电子监察的监督职责") == ["市电子监察"]
    assert duty_holder("领导小组及其办公室主要职责") == [] and duty_holder("职责分工") == []


@pytest.mark.parametrize("text,lead", [
    ("其他事项。各县(市、区)、市政府各部门要参照市里做法,建立相应组织机制。", ["各县(市、区)政府", "市政府各部门"]),
    ("其他事项。各区要于每月5日前报送进展情况。", ["各区政府"]),
    ("其他事项。市财政局要会同有关部门建立奖补机制。", ["市财政局"]),
])
def test_subject_sentences_collective_bodies(text, lead):
    """A bare `各县(市、区)` / `各区` as the subject stands for their governments."""
    from taskbot.importer.prose import subject_sentences
    assert [c.roles.lead for c in subject_sentences(text)] == [lead]


def test_style_documents_resolve_through_a_directory():
    """Names without the level prefix resolve through the directory (`人社局` -> `市人社局`)."""
    us = [Unit(n, n, (), "department") for n in ("市市场监管局", "市公安局", "市税务局", "市人社局")]
    r = load("table.txt", UnitDirectory(us, []))
    t = by_title(r, "推行企业开办")
    assert t["lead"] == ["市市场监管局"] and t["responsible"] == ["市公安局", "市税务局", "市人社局"]
    assert "市自然资源和规划局" in r.unresolved


# ------------------------------------------------------------------ the CLI and bad input

def run(path, tmp_path, units_path=None):
    err = io.StringIO()
    out = tmp_path / "out.yaml"
    code = cli_import(str(path), str(out), units_path, stream=err)
    return code, err.getvalue(), out


def test_cli_reads_and_writes(tmp_path):
    code, err, out = run(FIX / "fields.txt", tmp_path)
    assert code == 0
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert len(data["tasks"]) == 3 and data["documents"][0]["number"] == "某政文〔2019〕12号"
    assert "documents: 1" in err and "\r" not in err  # no progress bar on short input


def test_cli_gb18030(tmp_path):
    src = tmp_path / "gb.txt"
    src.write_bytes((FIX / "brackets.txt").read_text(encoding="utf-8").encode("gb18030"))
    code, err, out = run(src, tmp_path)
    assert code == 0
    assert f"import: {src}: not UTF-8; read as GB18030" in err
    assert len(yaml.safe_load(out.read_text(encoding="utf-8"))["tasks"]) == 5


def test_cli_empty_file(tmp_path):
    src = tmp_path / "x.txt"
    src.write_bytes(b"  \n\n")
    code, err, out = run(src, tmp_path)
    assert (code, err) == (1, f"import: {src}: the file is empty\n")
    assert not out.exists()


def test_cli_missing_file(tmp_path):
    code, err, _ = run(tmp_path / "nope.txt", tmp_path)
    assert (code, err) == (1, f"import: {tmp_path / 'nope.txt'}: file not found\n")


def test_cli_binary(tmp_path):
    src = tmp_path / "x.bin"
    src.write_bytes(bytes(range(256)) * 4)
    code, err, _ = run(src, tmp_path)
    assert (code, err) == (1, f"import: {src}: cannot read the file: it looks binary, not text (it holds NUL bytes)\n")


def test_cli_undecodable(tmp_path):
    src = tmp_path / "x.dat"
    src.write_bytes(b"abc\xff\xff\x80\x80")
    code, err, _ = run(src, tmp_path)
    assert (code, err) == (1, f"import: {src}: cannot read the file: it is neither UTF-8 nor GB18030 text\n")


def test_cli_utf16(tmp_path):
    src = tmp_path / "u16.txt"
    src.write_bytes((FIX / "fields.txt").read_text(encoding="utf-8").encode("utf-16"))
    code, err, out = run(src, tmp_path)
    assert code == 0 and "UTF-16" in err
    assert len(yaml.safe_load(out.read_text(encoding="utf-8"))["tasks"]) == 3


_NO_ITEMS = ("no assigned items found (numbered items naming their units, fields such as 牵头单位:, or a task "
             "table with a 牵头单位 or 责任单位 column); nothing written")


def test_cli_no_tasks(tmp_path):
    code, err, out = run(FIX / "notasks.txt", tmp_path)
    assert code == 1 and f"import: {FIX / 'notasks.txt'}: {_NO_ITEMS}\n" in err
    assert not out.exists()


def test_cli_text_without_documents(tmp_path):
    src = tmp_path / "plain.txt"
    src.write_text("这是一段普通文字,没有公文头。\n", encoding="utf-8")
    code, err, out = run(src, tmp_path)
    assert code == 1 and not out.exists()
    assert err.startswith(f"import: {src}: no document header (issuer, title, number such as 郑政文〔2018〕143号); "
                          "read as one document named plain\n")
    assert err.endswith(f"no assigned items found\nimport: {src}: {_NO_ITEMS}\n")


def test_cli_bad_units_file(tmp_path):
    bad = tmp_path / "units.yaml"
    bad.write_text("units: 3\n", encoding="utf-8")
    code, err, _ = run(FIX / "fields.txt", tmp_path, str(bad))
    assert code == 1 and f"{bad}:" in err and "error" in err


def test_cli_lists_unresolved(tmp_path):
    u = tmp_path / "units.yaml"
    u.write_text("units:\n  - {name: 市规划局, kind: department}\n", encoding="utf-8")
    code, err, _ = run(FIX / "fields.txt", tmp_path, str(u))
    assert code == 0
    assert "unresolved names (add them to the unit directory or as aliases):" in err
    assert "  市城管局 (2)" in err


# ------------------------------------------------------------------ the gazette

@pytest.fixture(scope="module")
def gazette():
    if not GAZETTE.exists():
        pytest.skip(f"{GAZETTE} is missing")
    text = GAZETTE.read_text(encoding="utf-8")
    t0 = time.perf_counter()
    calls = []
    result = import_text(text, None, lambda done, total: calls.append((done, total)))
    return result, time.perf_counter() - t0, calls


def test_gazette_import(gazette):
    result, seconds, calls = gazette
    assert calls and calls[-1][0] == calls[-1][1]
    assert len(result.documents) == 26
    assert result.documents[0]["number"] == "郑政〔2018〕35号"
    assert result.documents[-1]["number"] == "郑政办文〔2018〕35号"
    ids = [t["id"] for t in result.tasks]
    assert len(ids) == len(set(ids))
    kinds = {k: sum(1 for t in result.tasks if t["kind"] == k) for k in ("task", "goal", "target")}
    print(f"\ngazette: {len(result.documents)} documents, {len(result.tasks)} tasks {kinds}, {seconds:.2f}s")
    assert kinds["target"] >= 380 and kinds["task"] >= 140
    targets = [t for t in result.tasks if t["doc"] == "郑政办〔2018〕76号" and t["kind"] == "target"]
    assert len({t["lead"][0] for t in targets}) == 16
    cw = [t for t in result.tasks if t["doc"] == "郑政文〔2018〕143号" and t["kind"] == "task"]
    assert cw[0]["title"] == "编制完成建筑垃圾专项规划" and cw[0]["ref"] == "二(一)1"
    assert cw[0]["lead"] == ["市规划局", "市城管局"] and str(cw[0]["due"]) == "2018-12-31"


def test_gazette_agreement_with_curated_registry(gazette):
    """Figures of agreement with tasks.yaml; asserts only a floor, so regressions show."""
    path = ROOT / "tasks.yaml"
    if not path.exists():
        pytest.skip("tasks.yaml (the curated registry of the gazette) does not exist yet")
    curated = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("tasks") or []
    curated = [t for t in curated if isinstance(t, dict) and t.get("source_line")]
    if not curated:
        pytest.skip("tasks.yaml has no tasks with source_line")
    result = gazette[0]
    by_doc = {}
    for t in result.tasks:
        by_doc.setdefault(t["doc"], []).append(t)
    norm = lambda names: {normalize_name(n).removeprefix("郑州") for n in names or []}  # noqa: E731
    found = same_lead = same_due = both = 0
    for c in curated:
        cands = [t for t in by_doc.get(c.get("doc"), []) if abs(t["source_line"] - c["source_line"]) <= 3]
        if not cands:
            continue
        found += 1
        t = min(cands, key=lambda t: (abs(t["source_line"] - c["source_line"]), norm(t["lead"]) != norm(c.get("lead"))))
        lead_ok = norm(t["lead"]) == norm(c.get("lead"))
        due_ok = str(t["due"]) if t["due"] else None
        due_ok = due_ok == (str(c.get("due")) if c.get("due") else None)
        same_lead += lead_ok
        same_due += due_ok
        both += lead_ok and due_ok
    n = len(curated)
    pct = lambda k, of: f"{k}/{of} ({100 * k / of:.0f}%)" if of else "0/0"  # noqa: E731
    print(f"\nagreement with tasks.yaml: curated {n}, found {pct(found, n)}; of those same lead {pct(same_lead, found)}, "
          f"same due {pct(same_due, found)}, both {pct(both, found)}; imported {len(result.tasks)}")
    # measured on the 2018-08 gazette: found 79%, same lead 90%, same due 99% of those, 12 imported items
    # matching nothing; floors leave a margin
    floor = float(os.environ.get("TASKBOT_IMPORT_FLOOR", "0.75"))
    assert found >= floor * n, f"only {found} of {n} curated tasks found"
    assert same_lead >= 0.86 * found and same_due >= 0.97 * found
    assert len(result.tasks) - found <= 25, "the importer makes items the curators did not"


# ------------------------------------------------------------------ clean text, Word/Excel tables, no number
# Seven more documents in other governments' styles: clean text one paragraph a line (UTF-8 BOM, CRLF,
# U+3000 and tab indents), tables exported from Word/Excel (tab- or space-separated cells, merged cells,
# a cell wrapped onto the next line), a plan published without a number, a red-head layout (number above
# the title), `第一,`/`一要`/`1、` items, the first-listed-leads convention stated anywhere, page numbers
# inside items, half-width brackets in numbers.

MORE_DOCS = [
    # fixture, number, issued, issuer, id prefix, tasks
    ("clean_crlf.txt", "浙政办发〔2021〕12号", "2021-03-05", "浙江省人民政府办公厅", "zzbf12", 8),
    ("table_tabs.txt", "粤府函〔2020〕88号", "2020-09-18", "广东省人民政府", "yfh88", 5),
    ("table_spaces.txt", "青山县2022年乡村振兴重点工作任务清单", "2022-03-01", "(未知)", "qsx2022nxczx", 5),
    ("ordinal.txt", "京政办发〔2021〕12号", "2021-03-05", "北京市人民政府办公厅", "jzbf12", 6),
    ("council.txt", "国办发〔2019〕3号", "2019-08-16", "国务院办公厅", "gbf3", 6),
    ("samelines.txt", "成府发〔2021〕5号", "2021-04-02", "成都市人民政府", "cff5", 4),
    ("county_pdf.txt", "平政办发〔2021〕9号", "2021-05-10", "平江县人民政府办公室", "pzbf9", 6),
]


def load_bytes(name, directory=None):
    """The fixture as its bytes say (BOM, CRLF kept), decoded the way the CLI does."""
    from taskbot.importer import read_text
    text, _, problem = read_text((FIX / name).read_bytes())
    assert problem is None
    return import_text(text, directory)


@pytest.mark.parametrize("fixture,number,issued,issuer,prefix,n", MORE_DOCS)
def test_more_documents(fixture, number, issued, issuer, prefix, n):
    r = load_bytes(fixture)
    assert [(d["number"], str(d["issued"]), d["issuer"]) for d in r.documents] == [(number, issued, issuer)]
    assert len(r.tasks) == n, [(t["ref"], t["title"]) for t in r.tasks]
    assert [t["id"] for t in r.tasks] == [f"{prefix}-{k:02d}" for k in range(1, n + 1)]
    assert all(t["doc"] == number and list(t) == TASK_KEYS for t in r.tasks)


MORE_CASES = [
    # fixture, ref, title prefix, kind (t/g), lead, responsible, cooperating, due, due_text, every
    # clean_crlf.txt: `(责任单位:A、B、C)` with `排在第一位的为牵头单位` stated at the very end
    ('clean_crlf.txt', '一', '全省建成数字乡村示范', 'g', [], [], [], '2022-12-31', '2022年底', None),
    ('clean_crlf.txt', '二(一)(1)', '推进乡村5G网络覆盖', 't', ['省通信管理局'], ['省经信厅', '省发展改革委'], [],
     '2021-12-31', '2021年12月31日前', None),
    ('clean_crlf.txt', '二(一)(2)', '建设农业农村大数据中', 't', ['省农业农村厅'], ['省大数据局'], [],
     '2022-06-30', '2022年6月底前', None),
    ('clean_crlf.txt', '二(一)(3)', '推进智慧水利建设', 't', ['省水利厅'], [], ['省自然资源厅', '省气象局'],
     '2023-12-31', '2021—2023年', None),
    ('clean_crlf.txt', '二(二)(1)', '发展农村电子商务', 't', ['省商务厅'], ['省邮政管理局', '省供销社'], [],
     None, '每年年底前', 'yearly:12-31'),
    ('clean_crlf.txt', '二(二)(2)', '推进数字普惠金融', 't', ['人行杭州中心支行'], ['浙江银保监局'], [], None, None, None),
    ('clean_crlf.txt', '三(一)', '加强组织领导', 't', ['省农业农村厅'], [], [], None, '每半年', 'half-yearly'),
    ('clean_crlf.txt', '三(二)', '强化监测评估', 't', ['省统计局'], [], [], None, '每两个月', None),
    # table_tabs.txt: a merged 责任单位 cell (row 2), a row on two lines (3, 5), a page number inside
    ('table_tabs.txt', '附件/1', '稳定粮食播种面积,全', 't', ['省农业农村厅'],
     ['省发展改革委', '省财政厅', '各地级以上市人民政府'], [], None, '每年年底前', 'yearly:12-31'),
    ('table_tabs.txt', '附件/2', '建设高标准农田,新建', 't', ['省农业农村厅'],
     ['省发展改革委', '省财政厅', '各地级以上市人民政府'], [], '2022-12-31', '2022年底前', None),
    ('table_tabs.txt', '附件/3', '推进农村人居环境整治,农村卫生户厕', 't', ['省农业农村厅'],
     ['省住房城乡建设厅', '省生态环境厅'], [], '2023-12-31', '2021年—2023年', None),
    ('table_tabs.txt', '附件/4', '发展现代种业,建设国', 't', ['省科技厅'], ['省农业农村厅', '省林业局'], [],
     '2020-09-30', '第三季度', None),
    ('table_tabs.txt', '附件/5', '培育农业龙头企业,壮大', 't', ['省农业农村厅'], ['省工业和信息化厅', '省商务厅'], [],
     None, '长期', None),
    # table_spaces.txt: 责任部门/配合部门/时间节点, cells aligned with spaces, no document number
    ('table_spaces.txt', '一/1', '完成粮食播种面积45', 't', [], ['县农业农村局'], ['各乡镇人民政府'],
     '2022-06-30', '6月底前', None),
    ('table_spaces.txt', '一/2', '开展农村集体经济清产', 't', [], ['县农业农村局'], ['县财政局'],
     None, '每月10日前', 'monthly:10'),
    ('table_spaces.txt', '一/3', '推进农村公路提档升级', 't', [], ['县交通运输局'], ['县财政局', '县自然资源局'],
     None, '每双月', None),
    ('table_spaces.txt', '一/4', '落实低收入人口常态化', 't', [], ['县乡村振兴局'], ['县民政局', '县医保局'],
     None, '每半年', 'half-yearly'),
    ('table_spaces.txt', '一/5', '推进美丽乡村建设', 't', [], ['县住建局'], ['各乡镇人民政府'], None, '逐年推进', None),
    # ordinal.txt: `列第一位的为牵头单位,其他为配合单位`; an item cut by `- 3 -`
    ('ordinal.txt', '一第一', '深化背街小巷环境整治', 't', ['市城市管理委'], [], ['各区人民政府'],
     '2021-12-31', '2021年底', None),
    ('ordinal.txt', '一第二', '加强违法建设治理', 't', ['市规划自然资源委'], [], ['市城管执法局', '各区人民政府'],
     '2021-12-31', '年内', None),
    ('ordinal.txt', '一第三', '推进垃圾分类', 't', ['市城市管理委'], [], ['市商务局'], None, '每月10日前', 'monthly:10'),
    ('ordinal.txt', '二一要', '压实属地责任', 't', ['各区人民政府'], [], [], '2021-06-30', '6月底前', None),
    ('ordinal.txt', '二二要', '加强考核评价', 't', ['市城市管理委'], [], [], None, '每季度', 'quarterly'),
    ('ordinal.txt', '二三要', '加大资金投入', 't', ['市财政局'], [], [], None, None, None),
    # council.txt: `注:排在第一位的部门为牵头部门` under an appendix table with one 责任部门 column: the note
    # speaks of that table; `(A、B、C按职责分工负责)` above it are joint leads
    ('council.txt', '一', '促进流通新业态新模式', 't', ['商务部', '国家发展改革委', '自然资源部'], [], [], None, None, None),
    ('council.txt', '二', '推动传统流通企业创新', 't', ['商务部'], [], ['市场监管总局', '国家邮政局'], None, None, None),
    ('council.txt', '三', '改造提升商业步行街', 't', ['商务部'], [], [], '2020-12-31', '2020年底前', None),
    ('council.txt', '附件/1', '制定出台推动步行街改', 't', ['商务部'], ['住房城乡建设部'], [],
     '2019-12-31', '2019年12月31日前', None),
    ('council.txt', '附件/2', '开展农商互联农产品供', 't', ['商务部'], ['财政部', '农业农村部'], [],
     '2021-12-31', '2020年—2021年', None),
    ('council.txt', '附件/3', '完善消费信贷政策', 't', ['人民银行'], ['银保监会'], [], '2019-06-30', '上半年', None),
    # samelines.txt: `牵头单位:X;配合单位:Y` on the item's line, `成府发[2021]5号`
    ('samelines.txt', '一1', '建设天府绿道', 't', ['市公园城市局'], [], ['市住建局', '市交通运输局'],
     '2023-12-31', '2021年—2023年', None),
    ('samelines.txt', '一2', '实施龙泉山城市森林公', 't', ['市公园城市局'], [], ['市农业农村局'],
     '2023-12-31', '2023年底前', None),
    ('samelines.txt', '一3', '推进锦江公园建设', 't', ['市住建局'], [], ['锦江区政府', '青羊区政府'],
     '2021-09-30', '第三季度', None),
    ('samelines.txt', '一4', '开展公园城市示范区评', 't', ['市发改委'], [], [], '2021-09-30', '三季度末', None),
    # county_pdf.txt: PDF lines, bare unit lists `(A、B、C)`, `第一个为牵头单位,其余为配合单位`, `A(牵头)`
    ('county_pdf.txt', '一1', '压缩企业开办时间', 't', ['县市场监管局'], [], ['县公安局', '县税务局'],
     '2021-06-30', '6月底前', None),
    ('county_pdf.txt', '一2', '优化工程建设项目审批', 't', ['县住建局'], ['县自然资源局', '县发改局'], [],
     '2021-09-30', '三季度末', None),
    ('county_pdf.txt', '一3', '提升政务服务水平', 't', ['县政务服务中心'], [], ['县数据资源局'], '2021-12-31', '年内', None),
    ('county_pdf.txt', '一4', '规范涉企收费', 't', ['县发改局'], [], ['县财政局', '县市场监管局'],
     None, '每半年', 'half-yearly'),
    ('county_pdf.txt', '二(一)', '加强督查考核', 't', ['县政府督查室'], [], [], None, '每双月', None),
    ('county_pdf.txt', '二(二)', '强化宣传引导', 't', ['县融媒体中心'], [], [], None, None, None),
]


@pytest.mark.parametrize("fixture,ref,title,kind,lead,resp,coop,due,due_text,every", MORE_CASES)
def test_more_tasks(fixture, ref, title, kind, lead, resp, coop, due, due_text, every):
    tasks = load_bytes(fixture).tasks
    hits = [t for t in tasks if t["ref"] == ref and t["title"].startswith(title)]
    assert len(hits) == 1, f"{ref} {title!r}: {[(t['ref'], t['title']) for t in tasks]}"
    t = hits[0]
    assert t["kind"][0] == kind
    assert (t["lead"], t["responsible"], t["cooperating"]) == (lead, resp, coop)
    assert (str(t["due"]) if t["due"] else None, t["due_text"], t["every"]) == (due, due_text, every)


def test_clean_text_source_lines_and_page_numbers():
    r = load_bytes("clean_crlf.txt")   # BOM and CRLF: line numbers as an editor shows them
    assert [t["source_line"] for t in r.tasks] == [12, 15, 16, 17, 19, 20, 22, 23]
    r = load_bytes("ordinal.txt")
    t = by_title(r, "推进垃圾分类")
    assert "-3-" not in t["detail"] and "每月通报各区垃圾分类工作情况" in t["detail"]
    assert not any("第4页" in (t["detail"] or "") for t in r.tasks)
    r = load_bytes("county_pdf.txt")
    assert not any("文件" in (t["detail"] or "") for t in r.tasks)  # the running header is gone


def test_same_text_any_line_endings_and_indents():
    """CRLF/LF, BOM, U+3000/tab/space indents give the same tasks."""
    text = (FIX / "clean_crlf.txt").read_bytes().decode("utf-8-sig")
    want = [(t["ref"], t["lead"], t["due"]) for t in import_text(text).tasks]
    for variant in (text.replace("\r\n", "\n"), "\ufeff" + text.replace("\r\n", "\r"),
                    text.replace("\u3000\u3000", "\t"), text.replace("\u3000\u3000", "    ")):
        assert [(t["ref"], t["lead"], t["due"]) for t in import_text(variant).tasks] == want


HEADERS = [
    # header lines, number, issuer, issued (None: the date at the end, 3月5日 of the number's year), id prefix
    ("北京市人民政府办公厅关于加强管理的通知\n京政办发〔2021〕12号\n", "京政办发〔2021〕12号", "北京市人民政府办公厅", None,
     "jzbf12"),
    ("广东省人民政府关于加强管理的函\n粤府函〔2020〕88号\n", "粤府函〔2020〕88号", "广东省人民政府", None, "yfh88"),
    ("国务院办公厅关于加强管理的意见\n国办发〔2019〕3号\n", "国办发〔2019〕3号", "国务院办公厅", None, "gbf3"),
    ("某某省人民政府关于印发某某办法的通知\nX政规〔2022〕1号\n", "X政规〔2022〕1号", "某某省人民政府", None, "xzg1"),
    ("四川省人民政府关于加强管理的通知\n川府发[2021]5号\n", "川府发〔2021〕5号", "四川省人民政府", None, "cff5"),
    ("贵州省人民政府办公厅关于加强管理的通知\n黔府办发 （2021） 7 号\n", "黔府办发〔2021〕7号", "贵州省人民政府办公厅", None,
     "qfbf7"),
    ("湖南省人民政府关于加强管理的通知\n湘政发【2021】7号  2021年5月6日\n", "湘政发〔2021〕7号", "湖南省人民政府",
     "2021-05-06", "xzf7"),
    ("湖南省人民政府文件\n湘政发〔2021〕第8号\n湖南省人民政府关于加强\n资金管理的通知\n", "湘政发〔2021〕8号", "湖南省人民政府",
     None, "xzf8"),
    ("某某县人民政府\n关于加强管理的通知\n某政〔2021〕7号\n", "某政〔2021〕7号", "某某县人民政府", None, "mz7"),
    ("某某县2021年资金管理\n工作实施方案\n", "某某县2021年资金管理工作实施方案", "某某市人民政府", None, "mmx2021nzjgl"),
    ("关于加强资金管理的实施意见\n（2021年4月1日县政府常务会议审议通过）\n", "关于加强资金管理的实施意见", "某某市人民政府",
     "2021-04-01", "gyjqzjgldssy"),
]


@pytest.mark.parametrize("header,number,issuer,issued,prefix", HEADERS)
def test_document_numbers_and_headers(header, number, issuer, issued, prefix):
    import re
    year = re.search(r"(20\d\d)", header).group(1)
    cn_year = "".join("〇一二三四五六七八九"[int(c)] for c in year)
    for end in (f"某某市人民政府\n{cn_year}年三月五日\n", f"某某市人民政府\n{year}年3月5日\n"):
        body = "各有关单位:\n一、加强管理。市财政局要加强资金监管,年底前完成清理。\n"
        r = import_text(header + body + end)
        d = r.documents[0]
        assert (d["number"], d["issuer"], str(d["issued"])) == (number, issuer, issued or f"{year}-03-05")
        assert [(t["id"], t["doc"], t["lead"], str(t["due"])) for t in r.tasks] == [
            (f"{prefix}-01", number, ["市财政局"], f"{(issued or year)[:4]}-12-31")]


@pytest.mark.parametrize("text,lead,resp,coop", [
    ("(一)建立机制。(市发展改革委、市财政局)\n", [], ["市发展改革委", "市财政局"], []),
    ("(一)建立机制。(市发展改革委、市财政局)\n排在第一位的为牵头单位。\n", ["市发展改革委"], ["市财政局"], []),
    ("(一)建立机制。(责任单位:市发展改革委、市财政局)\n第一个为牵头单位。\n", ["市发展改革委"], ["市财政局"], []),
    ("(一)建立机制。(责任单位:市发展改革委、市财政局)\n列第一位的为牵头单位,其他为配合单位。\n", ["市发展改革委"], [],
     ["市财政局"]),
    ("(一)建立机制。(责任单位:市财政局、市发展改革委(牵头))\n", ["市发展改革委"], ["市财政局"], []),
    ("(一)建立机制。牵头单位:市发展改革委;配合单位:市财政局。完成时限:2021年底。\n", ["市发展改革委"], [], ["市财政局"]),
    ("(一)建立机制,各县(市、区)要加强监管(含开发区管委会)。\n", None, None, None),
])
def test_unit_list_forms(text, lead, resp, coop):
    r = import_text("某某市人民政府关于印发某某方案的通知\n某政〔2021〕3号\n一、重点任务\n" + text)
    if lead is None:
        assert r.tasks == []
        return
    assert [(t["lead"], t["responsible"], t["cooperating"]) for t in r.tasks] == [(lead, resp, coop)]


_TABLE_HEAD = "某某市人民政府办公室关于印发某某方案的通知\n某政办〔2021〕3号\n某某市人民政府办公室\n2021年3月5日\n附件\n"
TABLES = [
    # table text, [(ref, title, lead, responsible, cooperating, due, due_text)]
    ("序号\t重点任务\t牵头单位\t责任单位\t完成时限\n一\t优化政务服务\t\t\t\n"
     "1\t推行一网通办\t市政务服务中心\t市大数据局\t2021年6月底前\n二、优化市场环境\n"
     "1\t清理涉企收费\t市发展改革委\t市财政局\t年底前\n",
     [("附件/一1", "推行一网通办", ["市政务服务中心"], ["市大数据局"], [], "2021-06-30", "2021年6月底前"),
      ("附件/二1", "清理涉企收费", ["市发展改革委"], ["市财政局"], [], "2021-12-31", "年底前")]),
    # no 序号 column; an empty cooperating cell stays empty, an empty deadline cell is merged with the one above
    ("重点任务\t责任部门\t配合部门\t完成时间\n推行一网通办\t市政务服务中心\t市大数据局\t2021年6月底前\n"
     "清理涉企收费\t市发展改革委\t\t\n三、保障措施\n",
     [("附件/1", "推行一网通办", [], ["市政务服务中心"], ["市大数据局"], "2021-06-30", "2021年6月底前"),
      ("附件/2", "清理涉企收费", [], ["市发展改革委"], [], "2021-06-30", "2021年6月底前")]),
    ("序号\t重点任务\t具体措施\t牵头单位\t完成时限\n1\t推行一网通办\t整合办事入口,实现一网通办\t市政务服务中心\t第二季度\n",
     [("附件/1", "推行一网通办", ["市政务服务中心"], [], [], "2021-06-30", "第二季度")]),
    # cells aligned with spaces: an empty cell disappears, the deadline still lands in its column
    ("序号  重点任务  牵头单位  配合单位  完成时限\n1  推行一网通办  市政务服务中心  2021年6月底前\n"
     "2  清理涉企收费  市发展改革委  市财政局  年底前\n",
     [("附件/1", "推行一网通办", ["市政务服务中心"], [], [], "2021-06-30", "2021年6月底前"),
      ("附件/2", "清理涉企收费", ["市发展改革委"], [], ["市财政局"], "2021-12-31", "年底前")]),
    # `(牵头)` marks; a units cell broken onto its own line
    ("序号\t重点任务\t牵头单位\t责任单位\t完成时限\n1\t推行一网通办\t市政务服务中心\t市财政局、市大数据局(牵头)\t"
     "2021年6月底前\n2\t建设数据平台\t市大数据局\t市财政局、\n市政务服务中心\t2021年9月底前\n",
     [("附件/1", "推行一网通办", ["市政务服务中心", "市大数据局"], ["市财政局"], [], "2021-06-30", "2021年6月底前"),
      ("附件/2", "建设数据平台", ["市大数据局"], ["市财政局", "市政务服务中心"], [], "2021-09-30", "2021年9月底前")]),
]


@pytest.mark.parametrize("table,want", TABLES)
def test_exported_tables(table, want):
    r = import_text(_TABLE_HEAD + table)
    assert [(t["ref"], t["title"], t["lead"], t["responsible"], t["cooperating"], str(t["due"]), t["due_text"])
            for t in r.tasks] == want


# ------------------------------------------------------------------ bad input, table-driven

_TRAD = "臺北市政府關於印發數位發展實施方案的通知\n北市府〔2021〕12號\n一、加強組織領導。市財政局要加強資金監管。\n"


def _fixture(name, enc="utf-8"):
    return (FIX / name).read_text(encoding="utf-8").encode(enc)


BAD_INPUT = [
    # name, bytes, exit code, words in the message (or None), tasks in the output (or None: not written)
    ("empty", b"", 1, "the file is empty", None),
    ("whitespace", b" \r\n\t\n  \n", 1, "the file is empty", None),
    ("full-width spaces and a BOM", "\ufeff\u3000\u3000\r\n\u3000\n".encode("utf-8"), 1, "the file is empty", None),
    ("UTF-16 BOM only", "\ufeff".encode("utf-16-le"), 1, "the file is empty", None),
    ("no tasks", _fixture("notasks.txt"), 1, _NO_ITEMS, None),
    ("only headings", _fixture("headings_only.txt"), 1, _NO_ITEMS, None),
    ("Big5", _TRAD.encode("big5"), 0, "Big5 (traditional Chinese) text; converted to simplified characters", 1),
    ("traditional UTF-8", _fixture("traditional.txt"), 0, "traditional Chinese text; converted to simplified characters",
     3),
    ("Big5 fixture", _fixture("traditional.txt", "big5"), 0,
     "Big5 (traditional Chinese) text; converted to simplified characters", 3),
    ("UTF-16 LE with BOM", b"\xff\xfe" + _fixture("ordinal.txt", "utf-16-le"), 0, "UTF-16 text; read as such", 6),
    ("UTF-16 BE with BOM", b"\xfe\xff" + _fixture("ordinal.txt", "utf-16-be"), 0, "UTF-16 text; read as such", 6),
    ("UTF-16 without BOM", _fixture("ordinal.txt", "utf-16-le"), 1,
     "cannot read the file: it looks like UTF-16 text without a byte-order mark; save it as UTF-8", None),
    ("UTF-32 with BOM", _fixture("ordinal.txt", "utf-32"), 0, "UTF-32 text; read as such", 6),
    ("GB18030", _fixture("ordinal.txt", "gb18030"), 0, "not UTF-8; read as GB18030", 6),
    ("UTF-8 with BOM and CRLF", _fixture("clean_crlf.txt"), 0, None, 8),
]


@pytest.mark.parametrize("name,data,code,words,n", BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_cli_input_variety(tmp_path, name, data, code, words, n):
    src = tmp_path / "in.txt"
    src.write_bytes(data)
    got, err, out = run(src, tmp_path)
    assert got == code, err
    if words:
        assert f"import: {src}: {words}" in err
    if n is None:
        assert not out.exists()
    else:
        assert len(yaml.safe_load(out.read_text(encoding="utf-8"))["tasks"]) == n


def _synthetic(n_items: int, long_line: int) -> str:
    """A notice with n_items bracket items, a table of n_items rows and one paragraph of long_line chars."""
    items = "".join(f"({k % 90 + 1})推进第{k}项工作,完善机制。(责任单位:市发展改革委、市财政局;完成时限:2021年底前)\n"
                    for k in range(n_items))
    table = "".join(f"{k + 1}\t推进第{k}项改革\t市发展改革委\t\t2021年6月底前\n" for k in range(n_items))
    para = ("推进测试工作,加强统筹协调;完善工作机制" * (long_line // 20 + 1))[:long_line]
    return ("某某市人民政府办公室\n关于印发某某市测试方案的通知\n某政办〔2021〕1号\n一、重点任务\n" + items
            + "二、工作要求\n" + para + "。\n附件\n序号\t重点任务\t牵头单位\t责任单位\t完成时限\n" + table)


def test_large_input_imports_and_stays_linear():
    """A 2 MB document with a 1 MB line imports completely; the work (Python calls, counted, not timed)
    grows in proportion to the input."""
    import sys

    text = _synthetic(8000, 1_000_000)
    assert len(text.encode("utf-8")) > 2_000_000
    r = import_text(text)
    assert len(r.tasks) == 16000 and r.tasks[-1]["responsible"] == []

    def calls(t: str) -> int:
        n = [0]

        def prof(frame, event, arg):
            n[0] += 1
        sys.setprofile(prof)
        try:
            import_text(t)
        finally:
            sys.setprofile(None)
        return n[0]
    small, big = calls(_synthetic(150, 20_000)), calls(_synthetic(300, 40_000))
    assert big < 2.5 * small, (small, big)


# ------------------------------------------------------------------ other governments' documents (issue 13)
# Nine more texts: a provincial work plan pasted without any header (named by its file), one with only a
# title line, a tab-separated 分工表 under chapter rows with `无` cells, a State Council notice with a
# space-aligned table in another column order, `列第一位者为牵头单位` stated mid-document, a notice without
# a single deadline word, subjects that read like clauses, a 主要责任单位-first table, traditional characters.

NEW_DOCS = [
    # fixture, number, issued, issuer, headerless, id prefix, tasks
    ("headerless_prov.txt", "headerless_prov", "2025-01-01", "(未知)", True, "headerlesspr", 7),
    ("headerless_titled.txt", "某某省支持专精特新中小企业高质量发展十条", "2025-01-01", "(未知)", True, "mmszczjtxzxq", 5),
    ("table_province_tabs.txt", "某某省2023年科技创新重点任务分工表", "2023-01-01", "(未知)", True, "mms2023nkjcx", 10),
    ("table_council_spaces.txt", "国办发〔2022〕16号", "2022-05-20", "国务院办公厅", None, "gbf16", 10),
    ("convention_mid.txt", "某政办〔2022〕21号", "2022-04-06", "某某市人民政府办公室", None, "mzb21", 7),
    ("undated.txt", "某政办〔2022〕9号", "2022-01-01", "某某县人民政府办公室", None, "mzb9", 7),
    ("clauses.txt", "某政〔2021〕33号", "2021-09-10", "某某市人民政府", None, "mz33", 5),
    ("table_city_order.txt", "某某市2022年营商环境优化提升重点任务清单", "2022-03-15", "(未知)", True, "mms2022nyshj", 6),
    ("traditional.txt", "某政〔2021〕18号", "2021-06-08", "某某市人民政府", None, "mz18", 3),
]


def load_file(name, directory=None):
    from taskbot.importer.evaluate import load_fixture
    return load_fixture(FIX / name, directory)


@pytest.mark.parametrize("fixture,number,issued,issuer,headerless,prefix,n", NEW_DOCS)
def test_other_governments_documents(fixture, number, issued, issuer, headerless, prefix, n):
    r = load_file(fixture)
    assert [(d["number"], str(d["issued"]), d["issuer"], d.get("headerless")) for d in r.documents] == [
        (number, issued, issuer, headerless)]
    assert [t["id"] for t in r.tasks] == [f"{prefix}-{k:02d}" for k in range(1, n + 1)]
    assert all(t["doc"] == number and list(t) == TASK_KEYS for t in r.tasks)


NEW_CASES = [
    # fixture, source line, ref, title prefix, lead, responsible, cooperating, due, due_text, every
    # headerless_prov.txt: no header at all; `(A、B按职责分工负责,C结合实际落实)`, `(A牵头)`, central bodies in a province
    ('headerless_prov.txt', 4, '二(一)', '实施企业技术改造提升', ['省工业和信息化厅'], [], [], None, '每年', 'yearly:12-31'),
    ('headerless_prov.txt', 5, '二(二)', '推进产业集群数字化转', ['省科技厅', '省工业和信息化厅'], ['各地级以上市人民政府'], [],
     None, None, None),
    ('headerless_prov.txt', 7, '二(四)', '强化数字化转型人才支', ['省教育厅', '省人力资源社会保障厅'], [], ['各地级以上市人民政府'],
     None, None, None),
    ('headerless_prov.txt', 8, '二(五)', '加大财政金融支持', ['省财政厅', '人民银行广州分行', '广东银保监局'], [], [], None, None, None),
    ('headerless_prov.txt', 10, '三(一)', '加强统筹协调', ['省工业和信息化厅'], [], ['省有关单位'], None, None, None),
    # headerless_titled.txt: a title line of no known kind; `排在第一位的为牵头单位` closing the text governs all of it
    ('headerless_titled.txt', 3, '一', '加大财政资金支持', ['省财政厅'], ['省工业和信息化厅'], [], None, '每年', 'yearly:12-31'),
    ('headerless_titled.txt', 4, '二', '强化融资服务', ['人民银行某某中心支行'], ['省地方金融监管局', '某某银保监局'], [],
     None, None, None),
    ('headerless_titled.txt', 6, '四', '加强人才引育', ['省委组织部'], ['省人力资源社会保障厅'], [], None, None, None),
    # table_province_tabs.txt: tabs, chapter rows, `无`, `持续推进`/`长期`, units split by 、 and ，
    ('table_province_tabs.txt', 5, '一1', '推进省实验室体系建设', ['省科技厅'], [], ['省发展改革委', '省财政厅'],
     '2023-12-31', '2023年12月底前', None),
    ('table_province_tabs.txt', 6, '一2', '争取国家重大科技基础', ['省发展改革委'], [], ['省科技厅', '省财政厅'], None, '持续推进', None),
    ('table_province_tabs.txt', 7, '一3', '建设高水平新型研发机', ['省科技厅'], [], [], '2023-09-30', '2023年9月底前', None),
    ('table_province_tabs.txt', 11, '二6', '推动规模以上工业企业', ['省工业和信息化厅'], [], ['省科技厅', '各地级以上市人民政府'],
     '2023-12-31', '2023年底前', None),
    ('table_province_tabs.txt', 15, '三9', '加强知识产权保护', ['省市场监管局(省知识产权局)'], [], ['省公安厅', '省法院'], None, '长期',
     None),
    # table_council_spaces.txt: ministries; `等有关部门和单位` dropped; columns 任务/时间/牵头部门/参与单位
    ('table_council_spaces.txt', 9, '二', '稳定公共部门岗位规模', ['中央组织部', '人力资源社会保障部', '教育部'], [], [], None, None, None),
    ('table_council_spaces.txt', 11, '四', '加强就业指导服务', ['教育部', '人力资源社会保障部'], ['各省级人民政府'], [],
     None, None, None),
    ('table_council_spaces.txt', 17, '附件/1', '扩大国有企业招聘规模', ['国务院国资委'], [], ['人力资源社会保障部'],
     '2022-07-31', '2022年7月底前', None),
    ('table_council_spaces.txt', 22, '附件/6', '优化就业统计监测', ['国家统计局'], [], ['人力资源社会保障部', '发展改革委'],
     None, '每季度', 'quarterly'),
    # convention_mid.txt: the convention governs from its sentence on, not the items above it
    ('convention_mid.txt', 11, '二(一)', '开展排水设施普查', ['市水务局', '市住房城乡建设局'], [], [], '2022-10-31', '2022年10月底前', None),
    ('convention_mid.txt', 12, '二(二)', '实施雨污分流改造', ['市水务局', '各区人民政府'], [], [], None, None, None),
    ('convention_mid.txt', 15, '三1', '整治易涝积水点', ['市水务局'], [], ['市城市管理局', '各区人民政府'], '2023-05-31', '2023年5月底前',
     None),
    ('convention_mid.txt', 17, '三3', '提升应急处置能力', ['市应急管理局'], [], ['市水务局', '市城市管理局'], None, '每年汛期前', None),
    ('convention_mid.txt', 18, '三4', '强化监测预警', ['市气象局'], [], ['市水务局', '市大数据局'], None, None, None),
    # undated.txt: no deadline words anywhere, a table without a deadline column: every item kept, due null
    ('undated.txt', 5, '一', '落实管理责任', ['各乡镇人民政府'], [], [], None, None, None),
    ('undated.txt', 7, '三', '规范工程运行', ['县水利局', '县财政局'], [], [], None, None, None),
    ('undated.txt', 14, '附件/2', '建立农村饮水安全应急', [], ['县应急管理局'], ['县水利局', '县卫生健康局'], None, None, None),
    ('undated.txt', 15, '附件/3', '做好饮水安全政策宣传', [], ['县融媒体中心'], [], None, None, None),
    # clauses.txt: `A会同相关部门…`, `各职能部门应在规定时限内…本部门负责的…`: names, never clauses
    ('clauses.txt', 6, '一(一)', '推行并联审批', ['市政务服务中心'], [], ['相关部门'], None, None, None),
    ('clauses.txt', 7, '一(二)', '压缩审批时限', ['各职能部门'], [], [], None, None, None),
    ('clauses.txt', 11, '二(二)', '定期通报情况', ['市政府督查室'], [], [], None, '每季度', 'quarterly'),
    # table_city_order.txt: 主要责任单位 before the task, 协同单位, 时间要求, runs of spaces
    ('table_city_order.txt', 5, '一1', '推行政务服务事项“一', ['市政务服务管理局'], [], ['市大数据局'], '2022-06-30', '2022年6月底前', None),
    ('table_city_order.txt', 7, '一3', '推进社保业务“掌上办', ['市人力资源社会保障局'], [], ['市大数据局', '市财政局'], None, '持续推进',
     None),
    ('table_city_order.txt', 10, '二5', '清理妨碍统一市场的政', ['市发展改革委'], [], ['市司法局'], None, '长期', None),
    # traditional.txt: read through OpenCC, lines kept
    ('traditional.txt', 5, '一', '完善公园规划', ['市规划和自然资源局'], [], ['市园林绿化局'], '2021-12-31', '2021年12月底前', None),
    ('traditional.txt', 7, '三', '加强安全管理', ['各区人民政府'], [], [], None, '每季度', 'quarterly'),
]


@pytest.mark.parametrize("fixture,line,ref,title,lead,resp,coop,due,due_text,every", NEW_CASES)
def test_other_governments_items(fixture, line, ref, title, lead, resp, coop, due, due_text, every):
    hits = [t for t in load_file(fixture).tasks if t["source_line"] == line and t["kind"] == "task"]
    assert len(hits) == 1, [(t["source_line"], t["ref"], t["title"]) for t in load_file(fixture).tasks]
    t = hits[0]
    assert (t["ref"], t["title"][:len(title)]) == (ref, title)
    assert (t["lead"], t["responsible"], t["cooperating"]) == (lead, resp, coop)
    assert (str(t["due"]) if t["due"] else None, t["due_text"], t["every"]) == (due, due_text, every)


def test_evaluation_set():
    """Every fixture with the items a reader finds in it: all found; right lead, right units >= 90 %
    each. The `heldout` texts were written after the importer was changed for the others (figures
    of their first, blind run in the commit messages)."""
    from taskbot.importer.evaluate import evaluate
    total, per = evaluate()
    assert len(per) >= 35 and total.items >= 200
    others, _ = evaluate(since="headerless_prov.txt")
    print(f"\nevaluation set: {total.line()}\nother governments' texts: {others.line()}")
    for name, s in per.items():
        assert s.found == s.items, (name, s.misses)
    assert min(total.pct(total.found), total.pct(total.lead), total.pct(total.units)) >= 90, total.line()


def test_undated_items_are_kept():
    r = load_file("undated.txt")
    assert len(r.tasks) == 7 and all(t["due"] is None and t["due_text"] is None and t["every"] is None for t in r.tasks)


@pytest.mark.parametrize("text,kind,since", [
    (["一、甲。(A局、B局)", "以下各项任务中,列第一位者为牵头单位,其他为配合单位。", "1.乙。(A局、B局)"], "cooperating", 1),
    (["一、甲。(A局、B局)", "排在第一位的部门为牵头部门", "1.乙。"], "responsible", 1),
    (["一、甲。(A局、B局)", "本方案各项任务中排在第一位的为牵头单位。", "二、乙。"], "responsible", 0),
    (["一、甲。(A局、B局)", "注:排在第一位的部门为牵头部门。", "附件"], "responsible", 0),
    (["一、甲。(A局、B局)", "附件", "1\t乙\tA局、B局", "注:排在第一位的部门为牵头部门。"], "responsible", 1),
    (["一、甲。(A局、B局)", "二、乙。(A局、B局)", "列第一位者为牵头单位。"], "responsible", 0),
    (["一、甲。(A局、B局)"], False, 0),
])
def test_first_listed_leads_from_its_sentence_on(text, kind, since):
    from taskbot.importer.convention import convention_from
    assert convention_from(text) == (kind, since)


@pytest.mark.parametrize("name,ok", [
    ("职能部门应在规定时限内按程序完成上报件中本部门", False),
    ("市政务服务中心会同部门", False),
    ("各地级以上市人民政府结合实际落实", False),
    ("行政审批服务标准化动态调整机制职能部门", False),
    ("人力资源社会保障部", True),
    ("省市场监管局(省知识产权局)", True),
    ("市应急管理局", True),
    ("中央组织部", True),
    ("各地级以上市人民政府", True),
])
def test_a_unit_name_is_a_name_never_a_clause(name, ok):
    from taskbot.importer.assign import looks_like_unit
    assert looks_like_unit(name) is ok


@pytest.mark.parametrize("text,names", [
    ("人力资源社会保障部、财政部", ["人力资源社会保障部", "财政部"]),
    ("人力资源社会保障部等有关部门和单位", ["人力资源社会保障部"]),
    ("省财政厅、人民银行广州分行、广东银保监局", ["省财政厅", "人民银行广州分行", "广东银保监局"]),
    ("省科技厅,工业和信息化厅", ["省科技厅", "省工业和信息化厅"]),
    ("城管等其他有关部门", ["城管等其他有关部门"]),
])
def test_other_governments_names_cleanly_split(text, names):
    assert split_names(text) == names


def test_other_governments_names_are_never_mapped_to_the_directory():
    """`发展改革委` in a State Council document is not the city's `市发展改革委` (an alias of it in the
    directory); names stay as printed and are listed unresolved."""
    from taskbot.units import load_units
    directory = load_units(str(ROOT / "data" / "units.yaml"))
    r = load_file("table_council_spaces.txt", directory)
    t = [t for t in r.tasks if t["source_line"] == 22][0]
    assert t["cooperating"] == ["人力资源社会保障部", "发展改革委"]
    assert r.unresolved["发展改革委"] == 1 and r.unresolved["人力资源社会保障部"] == 9
    r = load_file("headerless_prov.txt", directory)  # no issuer: its names say it is a province's
    assert "省财政厅" in r.unresolved and "省有关单位" in r.unresolved
    r = load("fields.txt", directory)  # another city's 市规划局 is not Zhengzhou's
    assert r.tasks[0]["lead"] == ["市规划局", "市城管局"] and r.unresolved["市规划局"] == 2
    # the city's own documents still resolve through it
    own = import_text("郑州市人民政府关于加强管理的通知\n郑政〔2018〕9号\n一、加强管理。(发展改革委、财政局按职责分工负责)\n",
                      directory)
    assert own.tasks[0]["lead"] == ["市发展改革委", "市财政局"] and own.unresolved == {}


@pytest.mark.parametrize("issuer,title,number,place", [
    ("国务院办公厅", "", "国办发〔2022〕16号", "国务院"),
    ("广东省人民政府", "", "粤府函〔2020〕88号", "广东省"),
    ("郑州市人民政府办公厅", "", "郑政办〔2018〕70号", "郑州市"),
    ("", "平江县2021年优化营商环境攻坚行动方案", "", "平江县"),
    ("", "关于加强资金管理的实施意见", "", None),
])
def test_document_place(issuer, title, number, place):
    from taskbot.importer.places import document_place
    assert document_place(issuer, title, number) == place


@pytest.mark.parametrize("header,row,lead,resp,coop,due", [
    ("序号\t重点任务\t牵头部门\t参与单位\t时间节点", "1\t推行一网通办\t市政务服务中心\t市大数据局\t2021年6月底前",
     ["市政务服务中心"], [], ["市大数据局"], "2021-06-30"),
    ("序号\t完成时间\t工作任务\t主要责任单位\t协同单位", "1\t2021年6月底前\t推行一网通办\t市政务服务中心\t无",
     ["市政务服务中心"], [], [], "2021-06-30"),
    ("序号  责任部门  重点工作  配合单位  时间要求", "1  市政务服务中心  推行一网通办  市大数据局，市财政局  持续推进",
     [], ["市政务服务中心"], ["市大数据局", "市财政局"], None),
    ("序号\t主要任务\t责任单位\t完成时限", "1\t推行一网通办\t市政务服务中心、市大数据局\t长期",
     [], ["市政务服务中心", "市大数据局"], [], None),
    ("序号\t牵头单位\t配合单位\t重点任务\t完成时限", "1\t市政务服务中心\t市大数据局、市财政局\t推行一网通办\t2021年12月",
     ["市政务服务中心"], [], ["市大数据局", "市财政局"], "2021-12-31"),
])
def test_task_tables_any_column_order_and_header_words(header, row, lead, resp, coop, due):
    r = import_text("某某市2021年重点任务分工表\n一、政务服务\n" + header + "\n" + row + "\n")
    assert [(t["title"], t["lead"], t["responsible"], t["cooperating"], str(t["due"]) if t["due"] else None)
            for t in r.tasks] == [("推行一网通办", lead, resp, coop, due)]


def _zip_bytes(*members) -> bytes:
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, body in members:
            z.writestr(name, body)
    return buf.getvalue()


@pytest.mark.parametrize("name,data,kind", [
    ("plan.docx", _zip_bytes(("[Content_Types].xml", "<Types/>"), ("word/document.xml", "<w:document/>")), "Word"),
    ("plan.xlsx", _zip_bytes(("[Content_Types].xml", "<Types/>"), ("xl/workbook.xml", "<workbook/>")), "Excel"),
    ("plan.odt", _zip_bytes(("mimetype", "application/vnd.oasis.opendocument.text"), ("content.xml", "<x/>")),
     "OpenDocument"),
    ("plan.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "Word"),
    ("plan.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "PDF"),
    ("plan.txt", b"%PDF-1.4\n", "PDF"),  # by its bytes, whatever its name
])
def test_cli_word_or_pdf_given_by_mistake(tmp_path, name, data, kind):
    """Word, Excel, OpenDocument and PDF files (known by their bytes) are refused with the fix."""
    src = tmp_path / name
    src.write_bytes(data)
    code, err, out = run(src, tmp_path)
    assert (code, err) == (1, f"import: {src}: cannot read the file: it is a {kind} file, not text; export it as "
                              "text first (Save As or Export: plain text, UTF-8) and import that file\n")
    assert not out.exists()


def test_cli_headerless_plan(tmp_path):
    """A plan without any header is one document named after its file; all its names are listed,
    and a unit directory of those names makes the draft pass `taskbot check`."""
    from taskbot.registry import check_files
    code, err, out = run(FIX / "headerless_prov.txt", tmp_path)
    assert code == 0, err
    assert err.startswith(f"import: {FIX / 'headerless_prov.txt'}: no document header (issuer, title, number such "
                          "as 郑政文〔2018〕143号); read as one document named headerless_prov\n")
    assert "unresolved names: 11 (16 mentions)\nunresolved names (no unit directory given; --units data/units.yaml " \
           "checks them):\n  省工业和信息化厅 (5)\n  各地级以上市人民政府 (2)\n" in err
    names = [line.strip().rsplit(" (", 1)[0] for line in err.splitlines() if line.startswith("  ")]
    (tmp_path / "units.yaml").write_text(yaml.safe_dump(
        {"units": [{"name": n, "kind": "other"} for n in names]}, allow_unicode=True), encoding="utf-8")
    registry, diags = check_files(str(out), str(tmp_path / "units.yaml"))
    assert registry is not None and len(registry.tasks) == 7, "\n".join(map(str, diags))


@pytest.mark.parametrize("text,lead,coop", [
    ("三、培育主体。市商务局负责培育品牌连锁便利店,市市场监管局配合做好登记注册服务。", ["市商务局"], ["市市场监管局"]),
    ("三、储备物资。区应急管理局负责采购储备防汛物资,区财政局保障所需经费。", ["区应急管理局", "区财政局"], []),
    ("(七)加强督促落实。各省级人民政府要将养老服务纳入规划,民政部要会同有关部门加强工作指导。",
     ["各省级人民政府", "民政部"], ["有关部门"]),
    ("(二)加强统筹协调。市工信委要发挥好沟通协调职能,市级相关审批职能部门要加强横向配合。", ["市工信委"],
     ["市级相关审批职能部门"]),
    ("四、加强值班。汛期各单位实行24小时值班制度,区应急管理局每日通报值班情况。", ["区应急管理局"], []),
])
def test_more_units_in_the_rest_of_a_sentence(text, lead, coop):
    r = import_text("某某区人民政府关于做好有关工作的通知\n某区政〔2023〕1号\n" + text + "\n")
    assert [(t["lead"], t["cooperating"]) for t in r.tasks] == [(lead, coop)]


def test_cli_zip_given_by_mistake(tmp_path):
    src = tmp_path / "plan.zip"
    src.write_bytes(_zip_bytes(("plan.txt", "一、加强管理。")))
    code, err, out = run(src, tmp_path)
    assert (code, err) == (1, f"import: {src}: cannot read the file: it is a ZIP archive, not text; unpack it and "
                              "import the text file inside\n")
