"""Publishing toolkit: conversion of the authors' released checkpoints, model cards, Hub upload."""
