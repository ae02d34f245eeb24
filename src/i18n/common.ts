/**
 * Screen text shared by every flow: navigation, errors, resume, language and the main menu.
 *
 * Each catalogue module exports `en` and `sw` side by side; `sw` must have every key of `en` (the
 * type checker enforces it). `{name}` is replaced by a parameter. Keep to plain ASCII: one curly
 * quote or accent turns a whole USSD screen into UCS-2 and halves its budget. Every screen is
 * checked against the limit in tests (test/flows-walk.test.ts). Kiswahili follows shared/kenya.md's
 * glossary (Kenyan usage: "nambari"); phrases marked "own" there want a native speaker's review.
 */
export const en = {
  'nav.back': '0 Back',
  'nav.home': '00 Home',
  'nav.more': '98 More',
  'nav.end': '00 End',

  'error.invalid_choice': 'Invalid choice. Try again.',
  'error.unavailable': 'Sorry, Simu is not available right now. Please try again in a few minutes.',

  'session.restarted': 'Sorry, we had to start again.',

  'resume.title': 'You did not finish last time.',
  'resume.continue': 'Continue where you left off',
  'resume.restart': 'Start again',

  'language.first': 'Welcome to Simu / Karibu Simu',
  'language.title': 'Choose language',
  'language.en': 'English',
  'language.sw': 'Kiswahili',

  'main.title': 'Simu e-Citizen',
  'main.status': 'Application status',
  'main.reset': 'Reset login code',
  'main.book': 'Book Huduma appointment',
  'main.appointments': 'My appointments',
  'main.language': 'Language',
  'main.coming_soon': 'This service is coming soon to Simu. Thank you for your patience.',
} as const;

export const sw: Record<keyof typeof en, string> = {
  'nav.back': '0 Rudi',
  'nav.home': '00 Mwanzo',
  'nav.more': '98 Zaidi',
  'nav.end': '00 Maliza',

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
};
