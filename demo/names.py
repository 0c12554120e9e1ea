"""Word lists for the demo district: places, people, skills and partner enterprises (all invented)."""
from __future__ import annotations

DISTRICT = ("D01", "澜湾区")
# Roughly the centre of a large east-China city; every centroid is scattered around it.
CITY_CENTRE = (30.2741, 120.1551)

STREETS = ("望潮", "临湖", "文澜", "东新", "云栖", "柳岸", "星桥", "金沙", "槐荫", "青枫", "月湖", "梧桐",
           "长乐", "白鹭")
# The last street offices lie at the edge of town: some of their level-2 nodes are villages.
VILLAGE_STREETS = 2

COMMUNITY_FIRST = ("翠", "枫", "杏", "桂", "锦", "和", "阳", "春", "兰", "松", "荷", "梅", "竹", "明", "新",
                   "安", "康", "景", "华", "宁", "嘉", "瑞", "丰", "清")
COMMUNITY_SECOND = ("苑", "林", "园", "湾", "庭", "桥", "坊", "溪", "岭", "塘", "里", "亭", "港", "洲")
BRANCH_ORDINALS = ("第一", "第二", "第三")
CADRE_ORGANS = ("区住建局", "区民政局", "区城管局", "区应急管理局", "区卫健局", "区教育局", "区财政局",
                "区司法局", "区市场监管局", "区发改局")

# The commonest surnames, weighted roughly by how often they occur.
SURNAMES = (
    ("王", 72), ("李", 71), ("张", 68), ("刘", 54), ("陈", 46), ("杨", 31), ("黄", 24), ("赵", 20),
    ("吴", 19), ("周", 18), ("徐", 14), ("孙", 13), ("马", 12), ("朱", 11), ("胡", 10), ("郭", 10),
    ("何", 9), ("林", 9), ("高", 9), ("罗", 8), ("郑", 8), ("梁", 7), ("谢", 6), ("宋", 6), ("唐", 6),
    ("许", 5), ("韩", 5), ("冯", 5), ("邓", 5), ("曹", 5), ("彭", 4), ("曾", 4), ("肖", 4), ("田", 4),
    ("董", 4), ("袁", 4), ("潘", 3), ("于", 3), ("蒋", 3), ("蔡", 3), ("余", 3), ("杜", 3), ("叶", 3),
    ("程", 3), ("苏", 3), ("魏", 3), ("吕", 3), ("丁", 3), ("任", 2), ("沈", 2), ("姚", 2), ("卢", 2),
    ("姜", 2), ("崔", 2), ("钟", 2), ("谭", 2), ("陆", 2), ("汪", 2), ("范", 2), ("金", 2), ("石", 2),
    ("廖", 2), ("贾", 2), ("夏", 2), ("韦", 2), ("方", 2), ("白", 1), ("邹", 1), ("孟", 1), ("熊", 1),
    ("秦", 1), ("邱", 1), ("江", 1), ("尹", 1), ("薛", 1), ("欧阳", 1), ("司马", 1),
)
GIVEN_CHARS = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红娥玲芬燕彬斌宇浩凯健俊帆帅旭"
    "鹏辉鑫晨轩博文子涵梓萱欣怡佳琪思雨诗悦雪婷宁建国志伟德海林春梅晓东永红建华秋云立新卫东"
    "丹慧婉颖倩琳瑶嘉怡琦晗睿哲铭宸泽皓然一诺语桐可馨安瑞泰昊天振宏国庆金凤桂芳淑珍秀兰"
)

# code, Chinese name, English name, certified (a certificate with an expiry date)
SKILLS = (
    ("garbage_sorting_guide", "垃圾分类指导", "Garbage sorting guidance", False),
    ("gas_check", "燃气安全检查", "Gas safety inspection", True),
    ("first_aid", "急救", "First aid", True),
    ("flood_control", "防汛抢险", "Flood control", False),
    ("sandbag", "沙袋封堵", "Sandbagging", False),
    ("boat_rescue", "水上救援", "Boat rescue", True),
    ("elderly_care", "助老服务", "Elderly care", False),
    ("publicity", "宣传发动", "Publicity", False),
    ("patrol", "治安巡逻", "Patrol", False),
    ("electrician", "电工", "Electrician", True),
    ("plumbing", "水管维修", "Plumbing", False),
    ("appliance_repair", "家电维修", "Appliance repair", False),
    ("translation", "外语翻译", "Translation", False),
    ("sign_language", "手语", "Sign language", False),
    ("dialect", "方言沟通", "Local dialect", False),
    ("driving", "驾驶", "Driving", True),
    ("photography", "摄影摄像", "Photography", False),
    ("it_help", "电脑网络帮助", "IT help", False),
    ("data_entry", "信息登记", "Data entry", False),
    ("counselling", "心理疏导", "Psychological counselling", True),
    ("legal_aid", "法律援助", "Legal aid", True),
    ("mediation", "矛盾调解", "Dispute mediation", False),
    ("medical", "医疗诊治", "Medical (doctor)", True),
    ("nursing", "护理", "Nursing", True),
    ("fire_safety", "消防安全", "Fire safety", False),
    ("traffic_control", "交通疏导", "Traffic guidance", False),
    ("disinfection", "防疫消杀", "Disinfection", False),
    ("childcare", "托幼看护", "Childcare", False),
    ("catering", "餐饮保障", "Catering", False),
    ("logistics", "物资保障", "Supplies logistics", False),
)
# How common each skill is among residents (relative weights, same order as SKILLS).
SKILL_WEIGHTS = (10, 3, 5, 5, 6, 1, 9, 9, 6, 2, 3, 3, 2, 1, 4, 5, 3, 4, 5, 1, 1, 3, 1, 2, 3, 3, 3, 3, 3, 4)
# Identities make some skills far more likely (a doctor knows first aid; a police officer patrols).
IDENTITY_SKILLS = {
    "sunk_down_cadre": ("publicity", "data_entry", "mediation"),
    "law_enforcement": ("patrol", "traffic_control", "mediation"),
    "police": ("patrol", "traffic_control", "first_aid", "mediation"),
    "doctor": ("medical", "first_aid", "nursing", "disinfection"),
    "building_leader": ("publicity", "garbage_sorting_guide", "elderly_care", "data_entry"),
    "property_staff": ("electrician", "plumbing", "gas_check", "fire_safety", "garbage_sorting_guide"),
    "party_member": ("publicity", "elderly_care"),
}

# name, address, teams as (name, skill its members mostly have)
ENTERPRISES = (
    ("国网澜湾供电公司", "澜湾区望潮路88号", (("电力共产党员服务队", "electrician"), ("应急抢修队", "electrician"))),
    ("澜湾燃气有限公司", "澜湾区东新路12号", (("燃气安全服务队", "gas_check"), ("入户宣传队", "publicity"))),
    ("澜湾水务集团", "澜湾区临湖大道5号", (("防汛抢险突击队", "flood_control"), ("水上救援队", "boat_rescue"))),
    ("澜湾区人民医院", "澜湾区文澜路201号", (("医疗志愿服务队", "medical"), ("家庭医生团队", "nursing"),
                                         ("急救培训队", "first_aid"))),
    ("澜湾农商银行城东支行", "澜湾区金沙街36号", (("金融志愿服务队", "publicity"),)),
    ("澜湾安居物业服务有限公司", "澜湾区柳岸路66号", (("物业应急队", "sandbag"), ("楼道维修队", "plumbing"))),
    ("澜湾公交集团", "澜湾区星桥路1号", (("驾驶员志愿车队", "driving"),)),
)

MOBILE_PREFIXES = (130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 147, 150, 151, 152, 153, 155, 156,
                   157, 158, 159, 166, 173, 175, 176, 177, 178, 180, 181, 182, 183, 184, 185, 186, 187,
                   188, 189, 191, 193, 195, 198, 199)
