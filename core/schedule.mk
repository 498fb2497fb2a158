# schedule.mk
