import type { Match } from '../types.js';
import { allMatches } from './regex.js';
import { match } from './types.js';

// Names and addresses in scripts the name lexicon and the address rules (Latin letters) do not read.

// ---- Cyrillic: a common first name beside a surname of a common ending, in either order, with a patronymic ----
const FIRST_NAMES = new Set(
  (
    'александр алексей анатолий андрей антон аркадий артём артем борис вадим валентин валерий василий виктор виталий владимир владислав вячеслав геннадий георгий глеб григорий даниил денис дмитрий евгений егор иван игорь илья кирилл константин лев леонид максим марк матвей михаил никита николай олег павел пётр петр роман руслан сергей станислав степан тимофей тимур фёдор федор юрий ярослав ' +
    'александра алёна алена алина алиса алла анастасия ангелина анна валентина валерия вера вероника виктория галина дарья диана ева евгения екатерина елена елизавета жанна зоя ирина кира кристина ксения лариса лидия любовь людмила маргарита марина мария милана надежда наталья наталия нина оксана ольга полина раиса светлана софия софья таисия тамара татьяна ульяна юлия яна ' +
    'олександр олексій андрій василь володимир дмитро іван ігор микола михайло петро сергій юрій олена оксана наталія тетяна ірина юлія'
  ).split(' '),
);
const SURNAME = /(?:ов|ова|ев|ева|ёв|ёва|ин|ина|ын|ына|ский|ская|цкий|цкая|енко|ко|ук|юк|чук|ич|ян|дзе|швили|ых|их)$/;
const PATRONYMIC = /(?:вич|вна|ична|инична|ич)$/;
const CYRILLIC_WORDS = /(?<![\p{L}\p{M}])[А-ЯЁІЇЄҐ][а-яёіїєґ'’-]+(?:\s+[А-ЯЁІЇЄҐ][а-яёіїєґ'’-]+){1,2}(?![\p{L}\p{M}])/gu;
export const CYRILLIC_GATE = /[А-ЯЁІЇЄҐ]/;

/** The part of a capitalised run that is a name: its words from the first name part to the last. */
const namePart = (w: string) => FIRST_NAMES.has(w) || SURNAME.test(w) || PATRONYMIC.test(w);

export function findCyrillicNames(text: string): Match[] {
  const out: Match[] = [];
  for (const m of allMatches(CYRILLIC_WORDS, text)) {
    const all = m[0].split(/(\s+)/);
    const words = all.filter((_, i) => i % 2 === 0);
    let from = 0;
    let to = words.length;
    while (from < to && !namePart(words[from]!.toLowerCase())) from++;
    while (to > from && !namePart(words[to - 1]!.toLowerCase())) to--;
    const low = words.slice(from, to).map((w) => w.toLowerCase());
    if (low.length < 2) continue;
    // "Иван Петров", "Иван Петрович Петров", "Петров Иван", "Петров Иван Петрович": one first name, the rest a
    // surname or a patronymic.
    const first = FIRST_NAMES.has(low[0]!) ? 0 : FIRST_NAMES.has(low[1]!) ? 1 : -1;
    if (first < 0) continue;
    const rest = low.filter((_, i) => i !== first);
    const surnames = rest.filter((w) => SURNAME.test(w) && !PATRONYMIC.test(w)).length;
    const patronymics = rest.filter((w) => PATRONYMIC.test(w)).length;
    if (surnames + patronymics !== rest.length || (surnames === 0 && rest.length !== 2)) continue;
    const start = m.index + all.slice(0, from * 2).join('').length;
    const length = all.slice(from * 2, to * 2 - 1).join('').length;
    out.push(match('person', text, start, start + length, 0.75));
  }
  return out;
}

// ---- Chinese, Japanese, Korean: a name where the sentence says it is one ----
// A name is taken after a cue that can only introduce one (我叫, 名前は, 제 이름은, a form's name label), before
// a copula that says it is one (私は田中です, と申します, 저는 김민수입니다), after 我是 when it starts with a common
// Chinese surname, and before an honorific: a Chinese surname before 先生/女士/小姐, a Japanese name of two to
// four Han characters before さん/様, a Korean one before 님/씨. Han and Hangul names end where the script does or
// an honorific or copula starts; a name run on into the sentence is left. "私は" and "저는" alone begin most
// sentences ("私は注文を…"), so they are no cue.
const HAN = String.raw`\p{sc=Han}`;
const HAN_NAME = String.raw`${HAN}{2,4}?(?=[^\p{sc=Han}]|様|先生|女士|小姐|君|さん|$)`;
const HANGUL_NAME = String.raw`[\p{sc=Hangul}]{2,4}?(?=[^\p{sc=Hangul}]|입니다|이에요|예요|이고|님|씨|$)`;
const LABEL = String.raw`[：:\s]*`;
const NAME_AFTER_CUE = new RegExp(
  String.raw`(?:我叫|我的名字是|我的名字叫|名字是|名字叫|姓名${LABEL}|联系人${LABEL}|聯絡人${LABEL}|收件人${LABEL}|收货人${LABEL}|收貨人${LABEL}|名前は|お名前${LABEL}|氏名${LABEL}|宛名${LABEL}|이름은|제 이름은|이름${LABEL}|받는 ?사람${LABEL}|성함은|성함${LABEL}|성명${LABEL})\s*(${HAN_NAME}|${HANGUL_NAME}|[\p{sc=Katakana}ー・]{2,8})`,
  'gu',
);
const NAME_BEFORE_COPULA = new RegExp(
  String.raw`(?:(?:私は|わたしは)(${HAN}{2,4})(?=です|と申します)|(?<![\p{sc=Han}])(${HAN}{2,4})(?=と申します)|저는\s?([\p{sc=Hangul}]{2,4})(?=입니다|이에요|예요))`,
  'gu',
);
const SURNAMES =
  '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤張劉陳楊黃趙吳孫馬鄭謝許韓馮鄧蕭葉蘇呂盧鍾譚陸賈鄒龔錢嚴湯';
const CHINESE_NAME = String.raw`[${SURNAMES}]${HAN}{0,2}`;
const NAME_AFTER_WO_SHI = new RegExp(String.raw`我是(${CHINESE_NAME}?)(?=[^\p{sc=Han}]|$)`, 'gu');
const NAME_BEFORE_HONORIFIC = new RegExp(
  String.raw`(?<![\p{sc=Han}\p{sc=Hangul}])(?:(${CHINESE_NAME}?)(?=先生|女士|小姐)|(${HAN}{2,4})(?=さん|様|さま|君|くん|ちゃん)|([\p{sc=Hangul}]{2,3})(?=님|씨))`,
  'gu',
);
const NOT_NAMES = new Set(
  '担当者 担当 会員 利用者 管理者 店長 社長 部長 課長 先生 医者 患者 顧客 客様 皆 皆様 お客 お客様 家族 奥 旦那 息子 娘 运营 客服 老师 医生 同学 朋友 工作人员 负责人 고객 회원 담당자 선생 사장 여러분 고객님'.split(
    ' ',
  ),
);
/** Han words that end a role or place, not a name, before an honorific ("担当者様", "店長さん"). */
const NOT_NAME_END = /[者員长長部課课社店客様会局所院室係家人生師师士]$/u;
// What a name after a cue cannot begin with: "名字是必填项吗" (is the name required), "저는 고객입니다" (a customer).
const NOT_AFTER_CUE = new Set(
  '学生 会社員 社会人 日本人 中国人 韩国人 韓国人 外国人 初めて 고객 학생 회사원 처음 客户 顾客 老师 必填 必填项 必須 필수'.split(' '),
);
const HONORIFIC_END = /(?:先生|女士|小姐|様|君|氏)$/u;
export const CJK_NAME_GATE = /[\p{sc=Han}\p{sc=Hangul}\p{sc=Katakana}]/u;

export function findCjkNames(text: string): Match[] {
  const out: Match[] = [];
  const take = (name: string, start: number, score: number) => {
    if (NOT_NAMES.has(name) || [...NOT_AFTER_CUE].some((w) => name.startsWith(w))) return;
    out.push(match('person', text, start, start + name.length, score));
  };
  for (const m of allMatches(NAME_AFTER_CUE, text)) {
    // An honorific right after the name is no part of it (様 and 先生 are Han characters too).
    const name = m[1]!.replace(HONORIFIC_END, '');
    if (name.length >= 2) take(name, m.index + m[0].length - m[1]!.length, 0.7);
  }
  for (const m of allMatches(NAME_BEFORE_COPULA, text)) {
    const name = (m[1] ?? m[2] ?? m[3])!;
    take(name, m.index + m[0].length - name.length, 0.7);
  }
  for (const m of allMatches(NAME_AFTER_WO_SHI, text)) take(m[1]!, m.index + 2, 0.65);
  for (const m of allMatches(NAME_BEFORE_HONORIFIC, text)) {
    const name = (m[1] ?? m[2] ?? m[3])!;
    if (m[2] !== undefined && NOT_NAME_END.test(name)) continue;
    take(name, m.index, 0.65);
  }
  return out;
}

// ---- addresses: 北京市朝阳区建国路88号, 東京都千代田区丸の内1-2-3, 〒100-0005, 서울특별시 강남구 테헤란로 123 ----
const CN_ADDRESS = new RegExp(
  String.raw`(?:${HAN}{2,4}(?:省|自治区))?${HAN}{1,6}?(?:市|州)?${HAN}{1,6}?(?:区|區|县|縣|镇|鎮)${HAN}{1,10}?(?:路|街|道|巷|胡同|大道|弄)\s?\d{1,5}\s?(?:号|號)(?:${HAN}{0,6}?\d{1,5}(?:室|号|號|楼|樓|栋|棟|单元))*`,
  'gu',
);
// Japanese: no particle inside (only の, as in 丸の内), and a block number a street address has: n丁目n番(地)n号,
// n-n-n or n番地; "都市部で2-3日" and "品川区の店舗で2-3個" are no addresses.
const JP_ADDRESS = new RegExp(
  String.raw`(?:〒\s?\d{3}-\d{4}\s?)?(?:${HAN}{2,3}[都道府県])?[${HAN}\p{sc=Katakana}ヶ]{1,8}?[市区町村郡][${HAN}\p{sc=Katakana}ヶの]{0,10}?(?:\d{1,4}丁目\d{1,4}(?:番地?|-)(?:\d{1,4}号?)?|\d{1,4}-\d{1,4}-\d{1,4}|\d{1,4}番地(?:\d{1,4})?)(?![\d-])`,
  'gu',
);
const JP_POSTCODE = /〒\s?\d{3}-\d{4}/g;
// Korean: a road (로, 길; not the particle 으로) and its number, not a count ("2개", "3일").
const KR_ADDRESS =
  /[\p{sc=Hangul}]{2,6}(?:특별시|광역시|시|도)\s?[\p{sc=Hangul}]{1,6}(?:구|군|시)\s?[\p{sc=Hangul}\d]{1,10}?(?<!으)(?:로|길)\s?\d{1,5}(?:-\d{1,5})?(?![\d개일명분원번차주년월시])(?:\s?\d{1,5}(?:호|동|층))*/gu;
export const CJK_ADDRESS_GATE = /[区區县縣市町村郡구군시〒]/;

// Chinese puts no space before an address, so a match may begin with the words that lead to it ("请寄到" please
// send to, "我住在" I live in): they are cut off.
const LEAD_IN = /^\p{sc=Han}{0,6}?(?:寄到|送到|发到|寄往|邮寄到|地址是|地址为|地址|住在|位于|搬到|改到|到|在)/u;

export function findCjkAddresses(text: string): Match[] {
  const out: Match[] = [];
  for (const m of allMatches(CN_ADDRESS, text)) {
    const lead = LEAD_IN.exec(m[0])?.[0].length ?? 0;
    out.push(match('address', text, m.index + lead, m.index + m[0].length, 0.8));
  }
  for (const re of [JP_ADDRESS, KR_ADDRESS])
    for (const m of allMatches(re, text)) out.push(match('address', text, m.index, m.index + m[0].length, 0.8));
  for (const m of allMatches(JP_POSTCODE, text)) out.push(match('address', text, m.index, m.index + m[0].length, 0.7));
  return out;
}
