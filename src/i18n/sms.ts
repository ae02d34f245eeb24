/**
 * Text of the SMS channel: keyword replies, opt-out confirmations and status alerts. Conventions:
 * see common.ts. An SMS reply may use two parts (306 GSM-7 characters); keep to plain ASCII. An example
 * of an ID number is a placeholder (<ID number>), never digits: any 8 digits may be someone's ID.
 */
export const en = {
  'sms.help': 'Simu e-Citizen by SMS:\nSTATUS <number> - application status\nMY - my applications\nBOOK - book a Huduma appointment\nCANCEL <code> - cancel a booking\nRESET - new login code\nSTOP - no alerts\nOr dial {code}',
  'sms.stopped': 'You will get no more alerts or reminders from Simu. Answers to your own requests still come. Send START to get them again.',
  'sms.started': 'Simu will send you alerts and reminders again. Send STOP to stop them.',
  'sms.ended': 'Finished. Send HELP for the list of keywords.',
  'sms.need_id': "To see this application, send STATUS, this number and the applicant's ID number, like this:\nSTATUS {reference} <ID number>",
  'sms.not_found': 'We found no application with those details. Check the numbers and try again.',
  'sms.bad_reference': 'That application number is not valid: it has 13 digits. Send STATUS and the number.',
  'sms.mine_none': 'No applications are registered to this phone. Send STATUS, the application number and the ID number to check one.',
  'sms.cancel_usage': 'Send CANCEL and the 8-digit code of your booking, e.g. CANCEL 12345674',
  'sms.cancel_not_found': 'No upcoming booking of this phone has the code {code}. Check the code in your booking SMS.',
  'sms.not_available': 'This service is not available by SMS yet. Dial {code}.',
  'alert.intro': 'Simu: update on your application',
  'alert.footer': 'Send STOP to stop alerts.',

  'subscribe.item': 'SMS me when this changes',
  'subscribe.done': 'Done. We will send you an SMS when the status of {reference} changes.',
} as const;

export const sw: Record<keyof typeof en, string> = {
  'sms.help': 'Simu e-Citizen kwa SMS:\nHALI <nambari> - hali ya ombi\nYANGU - maombi yangu\nMIADI - weka miadi ya Huduma\nFUTA <nambari> - futa miadi\nBADILISHA - nambari mpya ya kuingia\nACHA - acha ujumbe\nAu piga {code}',
  'sms.stopped': 'Hutapokea tena arifa wala vikumbusho kutoka Simu. Majibu ya maombi yako bado yatakuja. Tuma ANZA kuyapokea tena.',
  'sms.started': 'Simu itakutumia arifa na vikumbusho tena. Tuma ACHA kuvisitisha.',
  'sms.ended': 'Imekamilika. Tuma MSAADA kupata orodha ya maneno.',
  'sms.need_id': 'Kuona ombi hili, tuma HALI, nambari hii na nambari ya kitambulisho cha mwombaji, hivi:\nHALI {reference} <nambari ya kitambulisho>',
  'sms.not_found': 'Hatukupata ombi lenye maelezo hayo. Angalia nambari kisha ujaribu tena.',
  'sms.bad_reference': 'Nambari hiyo ya ombi si sahihi: ina tarakimu 13. Tuma HALI na nambari.',
  'sms.mine_none': 'Hakuna maombi yaliyosajiliwa kwa simu hii. Tuma HALI, nambari ya ombi na nambari ya kitambulisho kuangalia moja.',
  'sms.cancel_usage': 'Tuma FUTA na nambari ya tarakimu 8 ya miadi yako, mf. FUTA 12345674',
  'sms.cancel_not_found': 'Hakuna miadi ijayo ya simu hii yenye nambari {code}. Angalia nambari kwenye SMS ya miadi yako.',
  'sms.not_available': 'Huduma hii bado haipatikani kwa SMS. Piga {code}.',
  'alert.intro': 'Simu: habari kuhusu ombi lako',
  'alert.footer': 'Tuma ACHA kusitisha arifa.',

  'subscribe.item': 'Nitumie SMS hali ikibadilika',
  'subscribe.done': 'Sawa. Tutakutumia SMS hali ya {reference} ikibadilika.',
};
