/**
 * English screen text. Every key here must exist in sw.ts (the type checker enforces it).
 * `{name}` is replaced by a parameter. Keep to plain ASCII: one curly quote or accent turns a whole
 * USSD screen into UCS-2 and halves its budget. Every screen is checked against the limit in tests.
 */
export const en = {
  'nav.back': '0 Back',
  'nav.home': '00 Home',
  'nav.more': '98 More',

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

  'status.title': 'Application status',
  'status.mine': 'My applications',
  'status.enter': 'Enter an application number',
  'status.mine_title': 'Your applications:',
  'status.item': '{type}: {status}',
  'status.none_mine': 'No applications are registered to this phone. Dial again and choose Enter an application number.',
  'status.ask_ref': 'Enter the 13-digit application number:',
  'status.ref_not_digits': 'Use digits only.',
  'status.ref_wrong_length': 'The number must have 13 digits.',
  'status.ref_bad_check_digit': 'That number is not valid. Check it.',
  'status.too_many_tries': 'That number is still not valid. Check it on your receipt and dial again.',
  'status.ask_id': "For privacy, enter the applicant's ID number:",
  'status.reask_id': 'Welcome back. For privacy, enter your ID number:',
  'status.not_found': 'We found no application with those details. Check the numbers and try again.',
  'status.detail': '{type} {reference}',
  'status.line': '{status}',
  'status.reason': 'Reason: {reason}',
  'status.collect_at': 'Collect at {centre}.',

  'type.passport': 'Passport',
  'type.id_card': 'ID card',
  'type.id_replacement': 'ID replacement',
  'type.birth_certificate': 'Birth cert.',
  'type.death_certificate': 'Death cert.',
  'type.good_conduct': 'Good conduct',
  'type.driving_licence': 'Driving licence',
  'type.business_name': 'Business name',
  'type.tax_compliance': 'Tax compliance',

  'st.SUBMITTED': 'Received, waiting for review',
  'st.PAYMENT_PENDING': 'Waiting for payment',
  'st.UNDER_REVIEW': 'Being reviewed',
  'st.QUERY_RAISED': 'QUERY: the office needs something from you',
  'st.APPROVED': 'Approved',
  'st.PRINTING': 'Approved, being printed',
  'st.READY_FOR_COLLECTION': 'READY for collection',
  'st.COLLECTED': 'Collected',
  'st.REJECTED': 'Rejected',
  'st.CANCELLED': 'Cancelled',
  'st.EXPIRED_UNCOLLECTED': 'Not collected in time',

  'short.SUBMITTED': 'Received',
  'short.PAYMENT_PENDING': 'Unpaid',
  'short.UNDER_REVIEW': 'In review',
  'short.QUERY_RAISED': 'Query',
  'short.APPROVED': 'Approved',
  'short.PRINTING': 'Printing',
  'short.READY_FOR_COLLECTION': 'READY',
  'short.COLLECTED': 'Collected',
  'short.REJECTED': 'Rejected',
  'short.CANCELLED': 'Cancelled',
  'short.EXPIRED_UNCOLLECTED': 'Expired',

  'reason.missing_parent_id': "A copy of a parent's ID is missing.",
  'reason.photo_not_clear': 'The passport photo is not clear.',
  'reason.other': 'Visit a Huduma Centre for details.',
} as const;

export type MessageKey = keyof typeof en;
