package org.m3ae.data;

import java.nio.file.Path;

/**
 * One example of any task, as read from a dataset file.
 *
 * @param id stable identifier (question id, or image stem for pairs)
 * @param image the image file (existence is checked by the reader)
 * @param text the caption (pairs, retrieval, classification) or the question (VQA)
 * @param answer the normalised answer (VQA), else null
 * @param closed true for CLOSED (yes/no-like) questions, false for OPEN; null outside VQA
 * @param label the class label (classification), else null
 * @param location {@code file:line} for error messages
 * @param group what a pipeline's {@code holdout} keeps together: the {@code fields.group} value (MedPix: the case,
 *     whose images share one caption), else the image file's name
 */
public record DataRecord(String id, Path image, String text, String answer, Boolean closed, String label, String location, String group) {}
