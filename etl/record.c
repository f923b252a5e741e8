/* record.c - initialising records. See record.h. */
#include "etl/record.h"

#include <math.h>
#include <string.h>

void record_init(struct record *r, enum rec_kind kind)
{
	memset(r, 0, sizeof *r);
	r->kind = (uint8_t)kind;
	switch (kind) {
	case REC_PERSON:
		r->u.person.birth = DT_EMPTY;
		break;
	case REC_DEATH:
		r->u.death.date = DT_EMPTY;
		break;
	case REC_VISIT:
		r->u.visit.start = r->u.visit.end = DT_EMPTY;
		break;
	case REC_EVENT:
		r->u.event.start = r->u.event.end = DT_EMPTY;
		r->u.event.quantity = NAN;
		r->u.event.days_supply = -1;
		r->u.event.refills = -1;
		r->u.event.value.num = r->u.event.value.low = r->u.event.value.high = NAN;
		break;
	case REC_LOCATION:
		r->u.location.latitude = r->u.location.longitude = NAN;
		break;
	case REC_COST:
		r->u.cost.total_charge = r->u.cost.total_cost = r->u.cost.total_paid = NAN;
		r->u.cost.paid_by_payer = r->u.cost.paid_by_patient = NAN;
		r->u.cost.origin = ORIG_CLAIM;
		break;
	case REC_PAYER_PERIOD:
		r->u.payer_period.start = r->u.payer_period.end = DT_EMPTY;
		break;
	default:
		break;
	}
}
