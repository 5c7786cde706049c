"""The matters of community life and the words residents use for each: 暖气, 供暖 and 供热 are one matter.

Character n-grams find the same words written differently; they cannot know that "没有暖气" and "供热接不进来" are
one complaint. No word vectors can be fetched here, so this is a small hand-kept lexicon of the matters that
fill a community's inbox (the ones the categories name, and their usual objects), each word given as residents
write it. A concern's concepts are the classes its normalised text names; two concerns naming the same object
with the same kind of fault are likely one matter, two naming different objects likely not. Add words here when
staff see a duplicate missed; the evaluation (core.related.evaluation) shows whether the change helps.
"""

from __future__ import annotations

import functools
import re

# concept → the words that name it (simplified, as `text.normalise` writes them)
LEXICON: dict[str, tuple[str, ...]] = {
    # objects
    "lift": ("电梯", "电题", "直梯", "轿厢", "困人", "关人"),
    "roof": ("楼顶", "屋顶", "顶楼", "顶层", "天台", "楼顶上"),
    "rubbish": ("垃圾", "拉圾", "杂物", "建渣", "建筑垃圾", "旧家具", "废品", "堆物", "堆放", "乱堆", "堆满", "纸箱", "纸壳"),
    "bins": ("垃圾桶", "垃圾箱", "垃圾站", "垃圾池", "中转站", "满溢", "溢出", "清运", "保洁", "清扫", "打扫"),
    "leak": ("漏水", "渗水", "滴水", "渗漏", "漏雨", "下小雨", "往下滴", "水渍", "防水", "返潮", "发霉"),
    "light": ("路灯", "照明", "灯不亮", "灯坏", "没灯", "太黑", "黑咕隆咚", "声控灯", "楼道灯", "灯泡", "打手电", "灯"),
    "charging": ("充电", "充电桩", "飞线", "拉电线", "吊线", "拉线", "充不上电"),
    "parking": ("停车", "车位", "乱停", "停放", "车停", "占道", "挪车", "僵尸车", "停满", "道闸"),
    "noise": ("噪音", "噪声", "吵", "扰民", "广场舞", "音响", "划拳", "喧哗", "睡不着", "嗡嗡", "吵醒"),
    "renovation": ("装修", "电钻", "砸墙", "施工"),
    "heating": ("暖气", "供暖", "供热", "热网", "锅炉", "暖气片", "不热", "室温", "冻", "电暖器", "煤炉"),
    "drain": ("下水", "下水道", "返味", "化粪池", "化粪井", "粪水", "粪池", "粪", "吸污", "污水", "反水", "返水", "冒水", "排水",
              "马桶", "淤堵", "疏通"),
    "water": ("停水", "没水", "水压", "水管", "自来水", "爆管", "水表", "直饮水", "饮水", "取水", "接水", "打水", "提水", "供水",
              "用不上水", "水龙头", "水箱"),
    "gas": ("燃气", "煤气", "天然气", "漏气"),
    "smoke": ("油烟", "排烟", "烧烤", "烟味", "烤串", "呛"),
    "guard": ("保安", "门岗", "门卫", "值守", "值班", "看大门", "随便进", "外来人员", "门禁"),
    "camera": ("监控", "摄像头", "探头"),
    "theft": ("偷", "被盗", "丢了", "失窃"),
    "fee": ("物业费", "收费", "涨价", "公示", "账目", "公共收益"),
    "no_property": ("没有物业", "无物业", "引进物业", "业委会"),
    "dog": ("狗", "犬", "宠物", "狗屎", "粪便", "遛狗", "咬人"),
    "throwing": ("高空抛物", "往下扔", "扔东西", "抛物", "砸下来"),
    "parcel": ("快递", "包裹", "快递柜", "驿站"),
    "wall": ("外墙", "墙皮", "瓷砖", "脱落", "空鼓", "保温层", "保温材料", "泡沫板"),
    "manhole": ("井盖", "窨井"),
    "green": ("绿化", "绿化带", "草坪", "树", "花坛", "修剪", "种菜", "毁绿"),
    "fitness": ("健身器材", "健身", "单杠", "漫步机"),
    "play": ("游乐", "滑梯", "秋千", "儿童"),
    "leisure": ("活动场所", "活动的地方", "休闲", "娱乐", "广场", "凉亭", "座椅", "下棋", "活动室", "没地方去"),
    "fire": ("消防", "消防通道", "灭火器", "消防栓", "堵消防"),
    "road": ("路面", "坑", "破损", "积水", "路口", "道路", "出行", "通道", "出口"),
    "stairs": ("楼梯", "扶手", "台阶", "坡道", "无障碍"),
    "rats": ("老鼠", "鼠患", "灭鼠", "蟑螂", "蚊子", "苍蝇"),
    "ads": ("小广告", "广告", "传单"),
    "solar": ("太阳能",),
    "tree": ("白杨", "杨树", "大树", "树枝", "枯树"),
    "door": ("单元门", "楼门", "防盗门", "铁门", "的门", "门坏", "门关不", "门合不上"),
    "gate": ("后门", "小门", "侧门", "门锁了", "锁了", "封闭", "开放"),
    "workshop": ("作坊", "加工点", "小工厂", "鞋厂", "胶水", "刷胶", "胶味"),
    "court": ("篮球场", "球场", "篮球架", "乒乓球台"),
    "bike": ("自行车", "车棚", "非机动车"),
    "power": ("停电", "跳闸", "电线老化", "电表", "供电", "电压", "没电"),
    "network": ("网络", "宽带", "信号", "基站"),
    "bus": ("公交", "公交站", "站牌", "班车"),
    "school": ("学校", "幼儿园", "上学", "放学", "校门"),
    "vendor": ("摊贩", "摆摊", "地摊", "占道经营", "流动摊", "水果摊", "菜摊", "小摊", "摊"),
    "toilet": ("公厕", "厕所", "卫生间"),
    "basement": ("地下室", "车库", "储藏室", "储藏间"),
    "fence": ("围墙", "护栏", "栏杆", "围栏"),
    "dust": ("扬尘", "粉尘", "渣土车", "灰尘"),
    "flood": ("内涝", "被淹", "倒灌", "淹了", "积水", "灌进", "往家里灌", "进水", "泡了"),
    "snow": ("积雪", "扫雪", "结冰", "路滑"),
    "elderly": ("养老", "助餐", "老年食堂", "日间照料", "老年人活动"),
    "clinic": ("卫生站", "诊所", "看病", "卫生服务站"),
    "illegal_build": ("违建", "私搭乱建", "搭建", "圈占", "圈地", "违章"),
    "window": ("窗户", "玻璃", "窗"),
    "balcony": ("阳台",),
    "stray": ("流浪猫", "流浪狗", "野猫"),
    "mailbox": ("信报箱", "信箱"),
}
# the faults, which say what is wrong with an object
FAULTS: dict[str, tuple[str, ...]] = {
    "broken": ("坏", "故障", "失灵", "不亮", "停运", "停了", "不能用", "没法用", "不转", "掉了", "松动", "破了", "修"),
    "missing": ("没有", "缺少", "不够", "太少", "无", "增设", "增加", "安装", "建个", "多装", "新建"),
    "dirty": ("脏", "臭", "味道", "苍蝇", "卫生", "浑", "发黄", "黄的", "沙子", "锈", "异味"),
    "too_much": ("太亮", "刺眼", "太吵", "太大声", "正对着"),
    "danger": ("隐患", "危险", "安全", "火灾", "差点", "摔"),
}


# How a label names a fault: "充电桩" + "不足" (in this order of preference when two are told as often)
FAULT_NAMES = {"broken": "损坏", "missing": "不足", "dirty": "脏乱", "too_much": "扰民", "danger": "有隐患"}


@functools.cache
def _pattern(lexicon: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[re.Pattern[str], dict[str, str]]:
    by_word = {word: concept for concept, words in lexicon for word in words}
    return re.compile("|".join(sorted(map(re.escape, by_word), key=len, reverse=True))), by_word


def _find(text: str, lexicon: dict[str, tuple[str, ...]]) -> frozenset[str]:
    pattern, by_word = _pattern(tuple(lexicon.items()))
    return frozenset(by_word[match] for match in pattern.findall(text))


def objects(text: str) -> frozenset[str]:
    """The objects of community life a normalised text names (电梯, 楼顶, 垃圾 …)."""
    return _find(text, LEXICON)


def faults(text: str) -> frozenset[str]:
    """What the text says is wrong (broken, missing, dirty, dangerous)."""
    return _find(text, FAULTS)


def object_words(text: str) -> frozenset[str]:
    """The words of `LEXICON` a normalised text uses (充电桩, 飞线 …): what a label is made of."""
    pattern, _ = _pattern(tuple(LEXICON.items()))
    return frozenset(pattern.findall(text))
