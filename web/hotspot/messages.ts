import type { Language } from './visit.js';

/**
 * The hotspot page's words in English and Bengali (what people at a Bangladeshi hotspot read). `{name}` marks a
 * value filled in per page. Field errors from the API are in English; the ones a person meets most often are
 * said here in both languages (by their stable code).
 */
const EN = {
  welcome: 'Welcome to {isp} Wi-Fi',
  at_place: '{place}',
  language: 'বাংলা',
  packages: 'Internet packages',
  day: '1 day',
  days: '{n} days',
  unlimited: 'Unlimited data',
  data: '{amount} data',
  tab_register: 'New here',
  tab_sign_in: 'I have an account',
  register_intro: 'Sign up with your mobile number. We send you a code by SMS; no password needed.',
  sign_in_intro: 'Enter the mobile number you signed up with. We send you a code by SMS.',
  mobile: 'Mobile number',
  mobile_hint: 'For example 01712 345678',
  mobile_required: 'Enter your mobile number',
  name: 'Your name',
  name_hint: 'Optional: so the ISP knows who you are',
  send_code: 'Send me a code',
  code_title: 'Enter your code',
  code_sent: 'We sent a {digits}-digit code to {to}. It works for {minutes} minutes.',
  code: 'Code from the SMS',
  continue: 'Continue',
  resend: 'Send a new code',
  other_number: 'Use another number',
  choose: 'Choose a package',
  choose_intro: 'Pay online with bKash, Nagad, Rocket or a card, or use a recharge card.',
  pay: 'Pay {amount}',
  pay_online: 'Pay online',
  card_title: 'Have a recharge card?',
  batch: 'Batch',
  batch_hint: 'Printed on the card, e.g. B2026-11',
  serial: 'Serial number',
  pin: 'PIN',
  pin_hint: 'Scratch the card to see it',
  redeem: 'Use this card',
  ready: 'You are all set',
  ready_until: 'Your package {package} is active until {until}.',
  connect: 'Connect to the internet',
  connecting: 'Connecting you to the internet…',
  connect_hint: 'Next time this device connects by itself.',
  no_router: 'To go online, open this page from the Wi-Fi login (connect to the hotspot and open any website).',
  no_device: 'We could not see which device this is. Connect to the Wi-Fi and open any website to get here from the login page.',
  other_device_title: 'Your account is on another device',
  other_device: 'Your package works on the device you signed up with. To use it on this one instead, sign in here with your number: the account moves to this device.',
  move_here: 'Move my account to this device',
  account: 'My account',
  sign_out: 'Sign out',
  signed_in_as: 'Signed in as {mobile}',
  status_new: 'This device is signed up: pay for a package and it goes online.',
  status_expired: 'Your package has run out. Choose one to get back online.',
  more_time: 'Add more time',
  status_suspended: 'This account is paused by the ISP. Please contact them.',
  status_disabled: 'This account is closed. Please contact the ISP.',
  closed: 'This hotspot does not take new sign-ups. Ask the ISP for an account or a recharge card.',
  router_error: 'The router said: {error}',
  secure: 'Payments are processed by SSLCommerz.',
  no_online: 'Online payment is not available at this hotspot; use a recharge card below.',
  help: 'Need help? Contact {isp}.',
  not_found_title: 'Hotspot not found',
  not_found: 'This Wi-Fi login page points at a hotspot we do not know. Please tell the ISP.',
  expired_form: 'This page had expired; please try again.',
  paid: 'Payment received — thank you.',
  card_done: 'Card accepted — thank you.',
} as const;

export type MessageKey = keyof typeof EN;

const BN: Readonly<Record<MessageKey, string>> = {
  welcome: '{isp} ওয়াই-ফাইতে স্বাগতম',
  at_place: '{place}',
  language: 'English',
  packages: 'ইন্টারনেট প্যাকেজ',
  day: '১ দিন',
  days: '{n} দিন',
  unlimited: 'আনলিমিটেড ডেটা',
  data: '{amount} ডেটা',
  tab_register: 'নতুন গ্রাহক',
  tab_sign_in: 'আমার অ্যাকাউন্ট আছে',
  register_intro: 'আপনার মোবাইল নম্বর দিয়ে নিবন্ধন করুন। আমরা এসএমএসে একটি কোড পাঠাব; কোনো পাসওয়ার্ড লাগবে না।',
  sign_in_intro: 'যে মোবাইল নম্বর দিয়ে নিবন্ধন করেছিলেন সেটি দিন। আমরা এসএমএসে একটি কোড পাঠাব।',
  mobile: 'মোবাইল নম্বর',
  mobile_hint: 'যেমন 01712 345678',
  mobile_required: 'আপনার মোবাইল নম্বর লিখুন',
  name: 'আপনার নাম',
  name_hint: 'ঐচ্ছিক: যাতে আইএসপি আপনাকে চিনতে পারে',
  send_code: 'কোড পাঠান',
  code_title: 'কোডটি লিখুন',
  code_sent: '{to} নম্বরে {digits} সংখ্যার একটি কোড পাঠানো হয়েছে। কোডটি {minutes} মিনিট কাজ করবে।',
  code: 'এসএমএসের কোড',
  continue: 'এগিয়ে যান',
  resend: 'নতুন কোড পাঠান',
  other_number: 'অন্য নম্বর ব্যবহার করুন',
  choose: 'একটি প্যাকেজ বেছে নিন',
  choose_intro: 'বিকাশ, নগদ, রকেট বা কার্ডে অনলাইনে পরিশোধ করুন, অথবা রিচার্জ কার্ড ব্যবহার করুন।',
  pay: '{amount} পরিশোধ করুন',
  pay_online: 'অনলাইনে পরিশোধ',
  card_title: 'রিচার্জ কার্ড আছে?',
  batch: 'ব্যাচ',
  batch_hint: 'কার্ডে ছাপা আছে, যেমন B2026-11',
  serial: 'সিরিয়াল নম্বর',
  pin: 'পিন',
  pin_hint: 'কার্ডটি ঘষে দেখুন',
  redeem: 'কার্ডটি ব্যবহার করুন',
  ready: 'সব প্রস্তুত',
  ready_until: 'আপনার {package} প্যাকেজ {until} পর্যন্ত চালু আছে।',
  connect: 'ইন্টারনেটে সংযুক্ত হন',
  connecting: 'ইন্টারনেটে সংযুক্ত করা হচ্ছে…',
  connect_hint: 'পরের বার এই ডিভাইস নিজে থেকেই সংযুক্ত হবে।',
  no_router: 'ইন্টারনেট চালু করতে ওয়াই-ফাই লগইন থেকে এই পাতাটি খুলুন (হটস্পটে যুক্ত হয়ে যেকোনো ওয়েবসাইট খুলুন)।',
  no_device: 'কোন ডিভাইস তা বোঝা যায়নি। ওয়াই-ফাইতে যুক্ত হয়ে যেকোনো ওয়েবসাইট খুলুন, লগইন পাতা থেকে এখানে আসবেন।',
  other_device_title: 'আপনার অ্যাকাউন্ট অন্য একটি ডিভাইসে',
  other_device: 'আপনার প্যাকেজ নিবন্ধনের ডিভাইসে চলে। এই ডিভাইসে ব্যবহার করতে এখানে আপনার নম্বর দিয়ে সাইন ইন করুন: অ্যাকাউন্টটি এই ডিভাইসে চলে আসবে।',
  move_here: 'অ্যাকাউন্টটি এই ডিভাইসে আনুন',
  account: 'আমার অ্যাকাউন্ট',
  sign_out: 'সাইন আউট',
  signed_in_as: '{mobile} হিসেবে সাইন ইন করা',
  status_new: 'এই ডিভাইসটি নিবন্ধিত হয়েছে: প্যাকেজের দাম পরিশোধ করলেই ইন্টারনেট চালু হবে।',
  status_expired: 'আপনার প্যাকেজের মেয়াদ শেষ। আবার সংযুক্ত হতে একটি প্যাকেজ বেছে নিন।',
  more_time: 'আরও সময় কিনুন',
  status_suspended: 'আইএসপি এই অ্যাকাউন্টটি স্থগিত রেখেছে। অনুগ্রহ করে তাদের সাথে যোগাযোগ করুন।',
  status_disabled: 'এই অ্যাকাউন্টটি বন্ধ। অনুগ্রহ করে আইএসপির সাথে যোগাযোগ করুন।',
  closed: 'এই হটস্পটে নতুন নিবন্ধন নেওয়া হয় না। অ্যাকাউন্ট বা রিচার্জ কার্ডের জন্য আইএসপিকে বলুন।',
  router_error: 'রাউটার জানিয়েছে: {error}',
  secure: 'পেমেন্ট SSLCommerz এর মাধ্যমে সম্পন্ন হয়।',
  no_online: 'এই হটস্পটে অনলাইন পেমেন্ট নেই; নিচে রিচার্জ কার্ড ব্যবহার করুন।',
  help: 'সাহায্য লাগলে {isp} এর সাথে যোগাযোগ করুন।',
  not_found_title: 'হটস্পট পাওয়া যায়নি',
  not_found: 'এই ওয়াই-ফাই লগইন পাতাটি এমন একটি হটস্পট দেখাচ্ছে যা আমাদের জানা নেই। অনুগ্রহ করে আইএসপিকে জানান।',
  expired_form: 'পাতাটির মেয়াদ শেষ হয়েছিল; আবার চেষ্টা করুন।',
  paid: 'পেমেন্ট পাওয়া গেছে — ধন্যবাদ।',
  card_done: 'কার্ড গৃহীত হয়েছে — ধন্যবাদ।',
};

/** Field errors by the API's code, in Bengali (English pages show the API's own message). */
const BN_ERRORS: Readonly<Record<string, string>> = {
  OTP_WRONG: 'কোডটি সঠিক নয়। এসএমএসের কোডটি আবার দেখে লিখুন।',
  OTP_EXPIRED: 'কোডটির মেয়াদ শেষ বা ব্যবহৃত হয়েছে; নতুন কোড চান।',
  MOBILE_TAKEN: 'এই নম্বরটি আগেই নিবন্ধিত; "আমার অ্যাকাউন্ট আছে" থেকে সাইন ইন করুন।',
  MOBILE_NOT_REGISTERED: 'এই নম্বরে কোনো অ্যাকাউন্ট নেই; আগে নিবন্ধন করুন।',
  MAC_TAKEN: 'এই ডিভাইসটি অন্য একটি নম্বরে নিবন্ধিত; সেই নম্বর দিয়ে সাইন ইন করুন।',
  RATE_LIMITED: 'খুব বেশি চেষ্টা হয়েছে; কিছুক্ষণ পরে আবার চেষ্টা করুন।',
  CARD_WRONG_PIN: 'পিনটি এই কার্ডের সাথে মেলেনি।',
  CARD_NOT_FOUND: 'এই ব্যাচে এই সিরিয়ালের কোনো কার্ড নেই।',
  CARD_BATCH_NOT_FOUND: 'এই ব্যাচটি পাওয়া যায়নি; কার্ডে ছাপা ব্যাচটি লিখুন।',
  CARD_ALREADY_REDEEMED: 'এই কার্ডটি আগেই ব্যবহার করা হয়েছে।',
  CARD_EXPIRED: 'এই কার্ডটির মেয়াদ শেষ।',
  SMS_UNAVAILABLE: 'এখন কোড পাঠানো যাচ্ছে না; এক মিনিট পরে আবার চেষ্টা করুন।',
  INVALID_INPUT: 'এটি সঠিক নয়; আবার দেখে লিখুন।',
};

const fill = (template: string, values: Readonly<Record<string, string | number>>): string => template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole));

export type Messages = Readonly<Record<MessageKey, string>>;

/** Every message in `lang`, with the page's values filled in. */
export function messagesFor(lang: Language, values: Readonly<Record<string, string | number>>): Messages {
  const source: Readonly<Record<MessageKey, string>> = lang === 'bn' ? BN : EN;
  return Object.fromEntries(Object.entries(source).map(([key, text]) => [key, fill(text, values)])) as Messages;
}

/** One message with its own values (a package's validity, a price). */
export function say(lang: Language, key: MessageKey, values: Readonly<Record<string, string | number>> = {}): string {
  return fill((lang === 'bn' ? BN : EN)[key], values);
}

/** The API's error codes said in the page's language, where this page has words for them. */
export const errorWords = (lang: Language): Readonly<Record<string, string>> => (lang === 'bn' ? BN_ERRORS : {});
