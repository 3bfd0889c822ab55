package org.m3ae.tasks;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Where {@code finetune --init} takes the task head from when the init file carries one ({@code vqa_head.*},
 * {@code cls_head.*}, {@code irtr_head.*}: the official fine-tuned checkpoints do).
 */
public enum HeadInit {
  /**
   * Load the file's head when it has one for this task; a head whose shape does not fit (another label count) is an
   * error naming the key and both shapes. Without one the head starts fresh (irtr_head from the ITM match row).
   */
  @JsonProperty("checkpoint") CHECKPOINT,
  /**
   * Always start the head fresh, ignoring the file's: what the official code does when fine-tuning from a
   * {@code load_path}, because m3ae_module.py builds the downstream heads after {@code load_state_dict} (a fine-tuned
   * checkpoint's heads are then silently dropped; only {@code test_only} loads them).
   */
  @JsonProperty("fresh") FRESH;

  public String id() {
    return name().toLowerCase();
  }
}
