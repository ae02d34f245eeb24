/**
 * Login-code reset screens and SMS (flows/reset-code.ts), and the "code not delivered" notice of
 * the main menu. Conventions: see common.ts. The SMS warns never to share the code: the seed story
 * is a citizen who sent her ID number to a stranger to get an account reset.
 */
export const en = {
  'reset.ask_id': 'Reset login code\nEnter your ID number:',
  'reset.id_format': 'An ID number has 6 to 10 digits.',
  'reset.ask_year': 'Enter your year of birth (e.g. 1990):',
  'reset.year_format': 'Enter the 4 digits of the year.',
  'reset.mismatch': 'The details do not match our records. Try again.',
  'reset.issued': 'Your new e-Citizen login code is {code}. It works until {until}. We also sent it by SMS. Never share it with anyone.',
  'reset.issued_here': 'Your new e-Citizen login code is {code}. It works until {until}. Never share it with anyone: no official will ever ask for it.',
  'reset.wrong_phone': 'This is not the phone registered on your account. Visit a Huduma Centre with your ID card to change it.',
  'reset.book_help': 'Book an e-Citizen help visit',
  'reset.too_many_tries': 'The details do not match our records. Try again tomorrow or visit a Huduma Centre with your ID card.',
  'reset.locked': 'Too many attempts. Try again tomorrow or visit a Huduma Centre with your ID card.',
  'reset.too_many_resets': 'You have reset your code 3 times today. Try again tomorrow or visit a Huduma Centre.',
  'reset.sms': 'e-Citizen login code: {code}. Valid until {until}. Never share it: no official will ever ask for it. Simu',

  'notice.undelivered_code': 'Your last login code could not be sent by SMS: {code}. It works until {until}.',
  'notice.consent_code': '{centre} asks for your consent. At the counter? Read this code to the agent: {code}. If not, give it to no one.',
  'notice.continue': 'Main menu',
} as const;

export const sw: Record<keyof typeof en, string> = {
  'reset.ask_id': 'Weka upya nambari ya kuingia\nWeka nambari yako ya kitambulisho:',
  'reset.id_format': 'Nambari ya kitambulisho ina tarakimu 6 hadi 10.',
  'reset.ask_year': 'Weka mwaka wako wa kuzaliwa (mf. 1990):',
  'reset.year_format': 'Weka tarakimu 4 za mwaka.',
  'reset.mismatch': 'Maelezo hayalingani na rekodi zetu. Jaribu tena.',
  'reset.issued': 'Nambari yako mpya ya kuingia e-Citizen ni {code}. Inafanya kazi hadi {until}. Tumeituma pia kwa SMS. Usimpe mtu yeyote.',
  'reset.issued_here': 'Nambari yako mpya ya kuingia e-Citizen ni {code}. Inafanya kazi hadi {until}. Usimpe mtu yeyote: hakuna afisa atakayeiomba.',
  'reset.wrong_phone': 'Hii si simu iliyosajiliwa kwenye akaunti yako. Tembelea Kituo cha Huduma na kitambulisho chako ili kuibadilisha.',
  'reset.book_help': 'Weka miadi ya msaada',
  'reset.too_many_tries': 'Maelezo hayalingani na rekodi zetu. Jaribu tena kesho au tembelea Kituo cha Huduma na kitambulisho chako.',
  'reset.locked': 'Majaribio mengi mno. Jaribu tena kesho au tembelea Kituo cha Huduma na kitambulisho chako.',
  'reset.too_many_resets': 'Umeweka upya nambari yako mara 3 leo. Jaribu tena kesho au tembelea Kituo cha Huduma.',
  'reset.sms': 'Nambari ya kuingia e-Citizen: {code}. Inafanya kazi hadi {until}. Usimpe mtu: hakuna afisa atakayeiomba. Simu',

  'notice.undelivered_code': 'Nambari yako ya mwisho ya kuingia haikutumwa kwa SMS: {code}. Inafanya kazi hadi {until}.',
  'notice.consent_code': '{centre} inaomba idhini yako. Uko kaunta? Msomee afisa nambari hii: {code}. Kama sivyo, usimpe mtu yeyote.',
  'notice.continue': 'Menyu kuu',
};
