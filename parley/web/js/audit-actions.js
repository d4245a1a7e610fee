// The audit log's actions in words, by the code the server logs them under (AuditAction in
// parley/core/moderation.py); tests/unit/test_audit_actions.py checks that both name the same.
export const ACTIONS = {
  suspend: "Account suspended",
  unsuspend: "Suspension lifted",
  limit: "Account limited",
  unlimit: "Limit lifted",
  remove_post: "Post removed",
  restore_post: "Post restored",
  end_space: "Space taken down",
  restore_space: "Space takedown overturned",
  remove_recording: "Recording removed",
  restore_recording: "Recording restored",
  recording_delete: "Recording deleted",
  report_actioned: "Report actioned",
  report_dismissed: "Report dismissed",
  appeal: "Appeal sent",
  decide_appeal: "Appeal decided",
  link_rule_add: "Link rule added",
  link_rule_remove: "Link rule removed",
  location_policy: "Location policy changed",
  feature_on: "Feature switched on",
  feature_off: "Feature switched off",
};
