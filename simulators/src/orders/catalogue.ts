/**
 * Static data for realistic Chinese e-commerce orders: receivers, addresses, products and
 * carriers. Only shapes matter (the gateway never validates a real address or waybill).
 */
import type { Prng } from '../lib/prng.js';

export const SURNAMES = [
  '王',
  '李',
  '张',
  '刘',
  '陈',
  '杨',
  '黄',
  '赵',
  '吴',
  '周',
  '徐',
  '孙',
  '马',
  '朱',
  '胡',
  '郭',
  '何',
  '林',
  '罗',
  '高',
  '欧阳',
  '司马',
];
export const GIVEN_CHARS = [
  '伟',
  '芳',
  '娜',
  '敏',
  '静',
  '丽',
  '强',
  '磊',
  '军',
  '洋',
  '勇',
  '艳',
  '杰',
  '娟',
  '涛',
  '明',
  '超',
  '秀',
  '霞',
  '平',
  '刚',
  '桂',
  '英',
  '华',
  '玉',
  '兰',
  '婷',
  '浩',
  '宇',
  '欣',
  '梓',
  '涵',
  '子',
  '轩',
];

export interface City {
  province: string;
  city: string;
  /** Telephone area code; used as the routing prefix. */
  area: string;
  /** Two-character short name used in the big-character sort code (大头笔). */
  short: string;
  districts: readonly string[];
}

export const CITIES: readonly City[] = [
  { province: '浙江省', city: '杭州市', area: '571', short: '浙杭', districts: ['西湖区', '余杭区', '滨江区', '拱墅区', '萧山区'] },
  { province: '上海市', city: '上海市', area: '021', short: '沪', districts: ['浦东新区', '徐汇区', '闵行区', '静安区', '宝山区'] },
  { province: '北京市', city: '北京市', area: '010', short: '京', districts: ['朝阳区', '海淀区', '丰台区', '通州区', '大兴区'] },
  { province: '广东省', city: '广州市', area: '020', short: '粤广', districts: ['天河区', '白云区', '番禺区', '海珠区', '越秀区'] },
  { province: '广东省', city: '深圳市', area: '0755', short: '粤深', districts: ['南山区', '福田区', '宝安区', '龙岗区', '龙华区'] },
  { province: '江苏省', city: '南京市', area: '025', short: '苏宁', districts: ['鼓楼区', '玄武区', '江宁区', '建邺区', '栖霞区'] },
  { province: '江苏省', city: '苏州市', area: '0512', short: '苏苏', districts: ['姑苏区', '工业园区', '吴中区', '相城区', '虎丘区'] },
  { province: '四川省', city: '成都市', area: '028', short: '川成', districts: ['武侯区', '锦江区', '高新区', '成华区', '双流区'] },
  { province: '湖北省', city: '武汉市', area: '027', short: '鄂汉', districts: ['洪山区', '江汉区', '武昌区', '汉阳区', '江夏区'] },
  { province: '陕西省', city: '西安市', area: '029', short: '陕西', districts: ['雁塔区', '碑林区', '未央区', '长安区', '莲湖区'] },
  { province: '山东省', city: '青岛市', area: '0532', short: '鲁青', districts: ['市南区', '崂山区', '黄岛区', '李沧区', '城阳区'] },
  { province: '福建省', city: '厦门市', area: '0592', short: '闽厦', districts: ['思明区', '湖里区', '集美区', '海沧区', '翔安区'] },
];

export const STREETS = ['文一西路', '中山路', '人民路', '解放路', '建设路', '科技园路', '学院路', '长江路', '东风路', '新华路', '滨江大道', '和平街'];
export const COMPOUNDS = ['阳光花园', '锦绣华庭', '翠苑小区', '碧桂园', '万科城', '绿城桂花园', '世纪新城', '金色家园', '保利香槟', '龙湖天街'];

export interface ProductKind {
  name: string;
  /** Unit weight range in grams. */
  grams: readonly [number, number];
}

export const PRODUCT_KINDS: readonly ProductKind[] = [
  { name: '保温杯 500ml', grams: [280, 420] },
  { name: '手机壳', grams: [25, 60] },
  { name: '数据线 1m', grams: [30, 60] },
  { name: '纯棉T恤', grams: [150, 260] },
  { name: '牛仔裤', grams: [450, 700] },
  { name: '运动袜 3双装', grams: [90, 140] },
  { name: '洗发水 400ml', grams: [430, 520] },
  { name: '面膜 10片', grams: [250, 350] },
  { name: '坚果礼盒', grams: [600, 1100] },
  { name: '绿茶 250g', grams: [270, 320] },
  { name: '蓝牙耳机', grams: [60, 120] },
  { name: '充电宝 10000mAh', grams: [190, 260] },
  { name: '儿童绘本', grams: [200, 450] },
  { name: '不锈钢饭盒', grams: [350, 600] },
  { name: '床上四件套', grams: [1400, 2200] },
  { name: '猫粮 2kg', grams: [2000, 2100] },
  { name: '口红', grams: [20, 45] },
  { name: '瑜伽垫', grams: [800, 1300] },
];

export const VARIANTS = ['黑色', '白色', '灰色', '蓝色', '粉色', 'S', 'M', 'L', 'XL', '标准款', '升级款'];

export const SHOPS = ['tmall-flagship', 'taobao-outlet', 'pdd-store', 'jd-pop', 'douyin-shop'] as const;

export interface CarrierSpec {
  code: string;
  /** Relative share among waybilled orders (Chinese e-commerce volume is ZTO/YTO/YUNDA/STO-heavy). */
  weight: number;
  waybill: (rng: Prng) => string;
}

/**
 * Waybill number shapes as printed on each carrier's e-waybills (plausible lengths and
 * prefixes, not check-digit-valid carrier numbers).
 */
export const CARRIERS: readonly CarrierSpec[] = [
  { code: 'ZTO', weight: 28, waybill: (r) => `7${r.pick(['3', '5', '7', '8'])}${r.digits(12)}` },
  { code: 'YTO', weight: 20, waybill: (r) => `YT${r.pick(['7', '8', '9'])}${r.digits(12)}` },
  { code: 'YUNDA', weight: 17, waybill: (r) => `${r.pick(['43', '46', '31'])}${r.digits(11)}` },
  { code: 'STO', weight: 14, waybill: (r) => `77${r.digits(11)}` },
  { code: 'SF', weight: 10, waybill: (r) => `SF${r.pick(['1', '3'])}${r.digits(12)}` },
  { code: 'JD', weight: 7, waybill: (r) => `JDV${r.pick(['A', 'B', 'C', 'D'])}${r.digits(11)}` },
  { code: 'EMS', weight: 4, waybill: (r) => `${r.pick(['11', '98'])}${r.digits(11)}` },
];
