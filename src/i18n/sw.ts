import type { MessageKey } from './en';

/**
 * Kiswahili screen text (Kenyan usage: "nambari"). Phrases follow shared/kenya.md's glossary;
 * those marked "own" there still want a native speaker's review. Plain ASCII only (see en.ts).
 * Application nouns: "ombi" is class 5, so status verbs take li- ("limeidhinishwa").
 */
export const sw: Record<MessageKey, string> = {
  'nav.back': '0 Rudi',
  'nav.home': '00 Mwanzo',
  'nav.more': '98 Zaidi',

  'error.invalid_choice': 'Chaguo si sahihi. Jaribu tena.',
  'error.unavailable': 'Samahani, Simu haipatikani kwa sasa. Tafadhali jaribu tena baada ya dakika chache.',
  'session.restarted': 'Samahani, tumeanza upya.',
  'resume.title': 'Hukumaliza mara iliyopita.',
  'resume.continue': 'Endelea ulipoachia',
  'resume.restart': 'Anza upya',

  'language.first': 'Welcome to Simu / Karibu Simu',
  'language.title': 'Chagua lugha',
  'language.en': 'English',
  'language.sw': 'Kiswahili',

  'main.title': 'Simu e-Citizen',
  'main.status': 'Hali ya ombi',
  'main.reset': 'Weka upya nambari ya kuingia',
  'main.book': 'Weka miadi ya Huduma',
  'main.appointments': 'Miadi yangu',
  'main.language': 'Lugha',
  'main.coming_soon': 'Huduma hii itapatikana kwenye Simu hivi karibuni. Asante kwa subira yako.',

  'status.title': 'Hali ya ombi',
  'status.mine': 'Maombi yangu',
  'status.enter': 'Weka nambari ya ombi',
  'status.mine_title': 'Maombi yako:',
  'status.item': '{type}: {status}',
  'status.none_mine': 'Hakuna maombi yaliyosajiliwa kwa simu hii. Piga tena uchague Weka nambari ya ombi.',
  'status.ask_ref': 'Weka nambari ya ombi yenye tarakimu 13:',
  'status.ref_not_digits': 'Tumia tarakimu pekee.',
  'status.ref_wrong_length': 'Nambari lazima iwe na tarakimu 13.',
  'status.ref_bad_check_digit': 'Nambari hiyo si sahihi. Iangalie.',
  'status.too_many_tries': 'Nambari bado si sahihi. Iangalie kwenye risiti yako kisha upige tena.',
  'status.ask_id': 'Kwa usiri, weka nambari ya kitambulisho ya mwombaji:',
  'status.reask_id': 'Karibu tena. Kwa usiri, weka nambari yako ya kitambulisho:',
  'status.not_found': 'Hatukupata ombi lenye maelezo hayo. Angalia nambari kisha ujaribu tena.',
  'status.detail': '{type} {reference}',
  'status.line': '{status}',
  'status.reason': 'Sababu: {reason}',
  'status.collect_at': 'Chukua katika {centre}.',

  'type.passport': 'Pasipoti',
  'type.id_card': 'Kitambulisho',
  'type.id_replacement': 'Kitambulisho kipya',
  'type.birth_certificate': 'Cheti cha kuzaliwa',
  'type.death_certificate': 'Cheti cha kifo',
  'type.good_conduct': 'Cheti cha maadili',
  'type.driving_licence': 'Leseni ya udereva',
  'type.business_name': 'Jina la biashara',
  'type.tax_compliance': 'Cheti cha ushuru',

  'st.SUBMITTED': 'Limepokelewa, linasubiri ukaguzi',
  'st.PAYMENT_PENDING': 'Linasubiri malipo',
  'st.UNDER_REVIEW': 'Linashughulikiwa',
  'st.QUERY_RAISED': 'SWALI: ofisi inahitaji kitu kutoka kwako',
  'st.APPROVED': 'Limeidhinishwa',
  'st.PRINTING': 'Limeidhinishwa, linachapishwa',
  'st.READY_FOR_COLLECTION': 'TAYARI kuchukuliwa',
  'st.COLLECTED': 'Limechukuliwa',
  'st.REJECTED': 'Limekataliwa',
  'st.CANCELLED': 'Limefutwa',
  'st.EXPIRED_UNCOLLECTED': 'Halikuchukuliwa kwa wakati',

  'short.SUBMITTED': 'Limepokelewa',
  'short.PAYMENT_PENDING': 'Halijalipwa',
  'short.UNDER_REVIEW': 'Ukaguzi',
  'short.QUERY_RAISED': 'Swali',
  'short.APPROVED': 'Limeidhinishwa',
  'short.PRINTING': 'Linachapishwa',
  'short.READY_FOR_COLLECTION': 'TAYARI',
  'short.COLLECTED': 'Limechukuliwa',
  'short.REJECTED': 'Limekataliwa',
  'short.CANCELLED': 'Limefutwa',
  'short.EXPIRED_UNCOLLECTED': 'Limepitwa na muda',

  'reason.missing_parent_id': 'Nakala ya kitambulisho cha mzazi haipo.',
  'reason.photo_not_clear': 'Picha ya pasipoti si wazi.',
  'reason.other': 'Tembelea Kituo cha Huduma kwa maelezo.',
};
