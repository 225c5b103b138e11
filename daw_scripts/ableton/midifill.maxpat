{
  "patcher": {
    "fileversion": 1,
    "appversion": {
      "major": 8,
      "minor": 6,
      "revision": 0,
      "architecture": "x64",
      "modernui": 1
    },
    "classnamespace": "box",
    "rect": [
      100.0,
      100.0,
      720.0,
      540.0
    ],
    "openinpresentation": 1,
    "default_fontsize": 10.0,
    "default_fontface": 0,
    "default_fontname": "Arial Bold",
    "gridonopen": 1,
    "gridsize": [
      8.0,
      8.0
    ],
    "gridsnaponopen": 1,
    "objectsnaponopen": 1,
    "statusbarvisible": 2,
    "toolbarvisible": 1,
    "boxanimatetime": 200,
    "enablehscroll": 1,
    "enablevscroll": 1,
    "devicewidth": 456.0,
    "description": "midifill: fill the selected MIDI clip",
    "digest": "",
    "tags": "",
    "style": "",
    "subpatcher_template": "",
    "boxes": [
      {
        "box": {
          "id": "obj-thisdevice",
          "maxclass": "newobj",
          "text": "live.thisdevice",
          "numinlets": 1,
          "numoutlets": 3,
          "outlettype": [
            "bang",
            "int",
            "int"
          ],
          "patching_rect": [
            20,
            20,
            95,
            22
          ]
        }
      },
      {
        "box": {
          "id": "obj-init",
          "maxclass": "message",
          "text": "init",
          "numinlets": 2,
          "numoutlets": 1,
          "outlettype": [
            ""
          ],
          "patching_rect": [
            20,
            55,
            35,
            22
          ]
        }
      },
      {
        "box": {
          "id": "obj-midiin",
          "maxclass": "newobj",
          "text": "midiin",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            "int"
          ],
          "patching_rect": [
            560,
            20,
            45,
            22
          ]
        }
      },
      {
        "box": {
          "id": "obj-midiout",
          "maxclass": "newobj",
          "text": "midiout",
          "numinlets": 1,
          "numoutlets": 0,
          "outlettype": [],
          "patching_rect": [
            560,
            55,
            50,
            22
          ]
        }
      },
      {
        "box": {
          "id": "obj-js",
          "maxclass": "newobj",
          "text": "js midifill.js 9001",
          "numinlets": 1,
          "numoutlets": 2,
          "outlettype": [
            "",
            ""
          ],
          "patching_rect": [
            20,
            300,
            140,
            22
          ],
          "saved_object_attributes": {
            "filename": "midifill.js",
            "parameter_enable": 0
          }
        }
      },
      {
        "box": {
          "id": "obj-udpsend",
          "maxclass": "newobj",
          "text": "udpsend 127.0.0.1 9000",
          "numinlets": 1,
          "numoutlets": 0,
          "outlettype": [],
          "patching_rect": [
            20,
            360,
            140,
            22
          ]
        }
      },
      {
        "box": {
          "id": "obj-udpreceive",
          "maxclass": "newobj",
          "text": "udpreceive 9001",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            ""
          ],
          "patching_rect": [
            300,
            250,
            100,
            22
          ]
        }
      },
      {
        "box": {
          "id": "obj-btn-fill",
          "maxclass": "live.text",
          "text": "Fill",
          "texton": "Fill",
          "mode": 0,
          "numinlets": 1,
          "numoutlets": 2,
          "outlettype": [
            "",
            ""
          ],
          "parameter_enable": 1,
          "varname": "Fill",
          "patching_rect": [
            20,
            110,
            70,
            20
          ],
          "presentation": 1,
          "presentation_rect": [
            4.0,
            4,
            64,
            18
          ],
          "saved_attribute_attributes": {
            "valueof": {
              "parameter_longname": "Fill",
              "parameter_shortname": "Fill",
              "parameter_type": 2,
              "parameter_mmin": 0,
              "parameter_mmax": 1,
              "parameter_initial_enable": 1,
              "parameter_initial": [
                0
              ],
              "parameter_enum": [
                "off",
                "on"
              ],
              "parameter_invisible": 2
            }
          }
        }
      },
      {
        "box": {
          "id": "obj-prep-fill",
          "maxclass": "newobj",
          "text": "prepend fill",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            ""
          ],
          "patching_rect": [
            20,
            140,
            90,
            22
          ]
        }
      },
      {
        "box": {
          "id": "obj-btn-cont",
          "maxclass": "live.text",
          "text": "Continue",
          "texton": "Continue",
          "mode": 0,
          "numinlets": 1,
          "numoutlets": 2,
          "outlettype": [
            "",
            ""
          ],
          "parameter_enable": 1,
          "varname": "Continue",
          "patching_rect": [
            90,
            110,
            70,
            20
          ],
          "presentation": 1,
          "presentation_rect": [
            70.5,
            4,
            64,
            18
          ],
          "saved_attribute_attributes": {
            "valueof": {
              "parameter_longname": "Continue",
              "parameter_shortname": "Continue",
              "parameter_type": 2,
              "parameter_mmin": 0,
              "parameter_mmax": 1,
              "parameter_initial_enable": 1,
              "parameter_initial": [
                0
              ],
              "parameter_enum": [
                "off",
                "on"
              ],
              "parameter_invisible": 2
            }
          }
        }
      },
      {
        "box": {
          "id": "obj-prep-cont",
          "maxclass": "newobj",
          "text": "prepend cont",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            ""
          ],
          "patching_rect": [
            90,
            140,
            90,
            22
          ]
        }
      },
      {
        "box": {
          "id": "obj-btn-vary",
          "maxclass": "live.text",
          "text": "Variations",
          "texton": "Variations",
          "mode": 0,
          "numinlets": 1,
          "numoutlets": 2,
          "outlettype": [
            "",
            ""
          ],
          "parameter_enable": 1,
          "varname": "Variations",
          "patching_rect": [
            160,
            110,
            70,
            20
          ],
          "presentation": 1,
          "presentation_rect": [
            137.0,
            4,
            64,
            18
          ],
          "saved_attribute_attributes": {
            "valueof": {
              "parameter_longname": "Variations",
              "parameter_shortname": "Variations",
              "parameter_type": 2,
              "parameter_mmin": 0,
              "parameter_mmax": 1,
              "parameter_initial_enable": 1,
              "parameter_initial": [
                0
              ],
              "parameter_enum": [
                "off",
                "on"
              ],
              "parameter_invisible": 2
            }
          }
        }
      },
      {
        "box": {
          "id": "obj-prep-vary",
          "maxclass": "newobj",
          "text": "prepend vary",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            ""
          ],
          "patching_rect": [
            160,
            140,
            90,
            22
          ]
        }
      },
      {
        "box": {
          "id": "obj-btn-cancel",
          "maxclass": "live.text",
          "text": "Cancel",
          "texton": "Cancel",
          "mode": 0,
          "numinlets": 1,
          "numoutlets": 2,
          "outlettype": [
            "",
            ""
          ],
          "parameter_enable": 1,
          "varname": "Cancel",
          "patching_rect": [
            230,
            110,
            70,
            20
          ],
          "presentation": 1,
          "presentation_rect": [
            203.5,
            4,
            64,
            18
          ],
          "saved_attribute_attributes": {
            "valueof": {
              "parameter_longname": "Cancel",
              "parameter_shortname": "Cancel",
              "parameter_type": 2,
              "parameter_mmin": 0,
              "parameter_mmax": 1,
              "parameter_initial_enable": 1,
              "parameter_initial": [
                0
              ],
              "parameter_enum": [
                "off",
                "on"
              ],
              "parameter_invisible": 2
            }
          }
        }
      },
      {
        "box": {
          "id": "obj-prep-cancel",
          "maxclass": "newobj",
          "text": "prepend cancel",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            ""
          ],
          "patching_rect": [
            230,
            140,
            90,
            22
          ]
        }
      },
      {
        "box": {
          "id": "obj-temp",
          "maxclass": "live.dial",
          "numinlets": 1,
          "numoutlets": 2,
          "outlettype": [
            "",
            "float"
          ],
          "parameter_enable": 1,
          "varname": "Temperature",
          "patching_rect": [
            20,
            180,
            44,
            48
          ],
          "presentation": 1,
          "presentation_rect": [
            4,
            26,
            44,
            48
          ],
          "saved_attribute_attributes": {
            "valueof": {
              "parameter_longname": "Temperature",
              "parameter_shortname": "Temp",
              "parameter_type": 0,
              "parameter_mmin": 0.1,
              "parameter_mmax": 2.0,
              "parameter_initial_enable": 1,
              "parameter_initial": [
                1.0
              ],
              "parameter_unitstyle": 1
            }
          }
        }
      },
      {
        "box": {
          "id": "obj-vars",
          "maxclass": "live.numbox",
          "numinlets": 1,
          "numoutlets": 2,
          "outlettype": [
            "",
            "float"
          ],
          "parameter_enable": 1,
          "varname": "Variations count",
          "patching_rect": [
            80,
            190,
            40,
            15
          ],
          "presentation": 1,
          "presentation_rect": [
            96,
            44,
            36,
            15
          ],
          "saved_attribute_attributes": {
            "valueof": {
              "parameter_longname": "Variations count",
              "parameter_shortname": "Vars",
              "parameter_type": 1,
              "parameter_mmin": 1,
              "parameter_mmax": 8,
              "parameter_initial_enable": 1,
              "parameter_initial": [
                3
              ],
              "parameter_unitstyle": 0
            }
          }
        }
      },
      {
        "box": {
          "id": "obj-keylock",
          "maxclass": "live.text",
          "text": "Key lock",
          "texton": "Key lock",
          "mode": 1,
          "numinlets": 1,
          "numoutlets": 2,
          "outlettype": [
            "",
            ""
          ],
          "parameter_enable": 1,
          "varname": "Key lock",
          "patching_rect": [
            200,
            190,
            60,
            18
          ],
          "presentation": 1,
          "presentation_rect": [
            192,
            42,
            56,
            18
          ],
          "saved_attribute_attributes": {
            "valueof": {
              "parameter_longname": "Key lock",
              "parameter_shortname": "Key lock",
              "parameter_type": 2,
              "parameter_mmin": 0,
              "parameter_mmax": 1,
              "parameter_initial_enable": 1,
              "parameter_initial": [
                0
              ],
              "parameter_enum": [
                "off",
                "on"
              ]
            }
          }
        }
      },
      {
        "box": {
          "id": "obj-together",
          "maxclass": "live.text",
          "text": "Together",
          "texton": "Together",
          "mode": 1,
          "numinlets": 1,
          "numoutlets": 2,
          "outlettype": [
            "",
            ""
          ],
          "parameter_enable": 1,
          "varname": "midifill together",
          "patching_rect": [
            460,
            190,
            60,
            18
          ],
          "presentation": 1,
          "presentation_rect": [
            136,
            42,
            52,
            18
          ],
          "saved_attribute_attributes": {
            "valueof": {
              "parameter_longname": "midifill together",
              "parameter_shortname": "Together",
              "parameter_type": 2,
              "parameter_mmin": 0,
              "parameter_mmax": 1,
              "parameter_initial_enable": 1,
              "parameter_initial": [
                0
              ],
              "parameter_enum": [
                "off",
                "on"
              ]
            }
          }
        }
      },
      {
        "box": {
          "id": "obj-port",
          "maxclass": "live.numbox",
          "numinlets": 1,
          "numoutlets": 2,
          "outlettype": [
            "",
            "float"
          ],
          "parameter_enable": 1,
          "varname": "Server port",
          "patching_rect": [
            270,
            190,
            50,
            15
          ],
          "presentation": 1,
          "presentation_rect": [
            254,
            44,
            46,
            15
          ],
          "saved_attribute_attributes": {
            "valueof": {
              "parameter_longname": "Server port",
              "parameter_shortname": "Port",
              "parameter_type": 1,
              "parameter_mmin": 1024,
              "parameter_mmax": 65535,
              "parameter_initial_enable": 1,
              "parameter_initial": [
                9000
              ],
              "parameter_unitstyle": 0
            }
          }
        }
      },
      {
        "box": {
          "id": "obj-prep-temperature",
          "maxclass": "newobj",
          "text": "prepend temperature",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            ""
          ],
          "patching_rect": [
            20,
            240,
            100,
            22
          ]
        }
      },
      {
        "box": {
          "id": "obj-prep-numvariations",
          "maxclass": "newobj",
          "text": "prepend numvariations",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            ""
          ],
          "patching_rect": [
            130,
            240,
            100,
            22
          ]
        }
      },
      {
        "box": {
          "id": "obj-prep-keylock",
          "maxclass": "newobj",
          "text": "prepend keylock",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            ""
          ],
          "patching_rect": [
            350,
            240,
            100,
            22
          ]
        }
      },
      {
        "box": {
          "id": "obj-prep-together",
          "maxclass": "newobj",
          "text": "prepend together",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            ""
          ],
          "patching_rect": [
            460,
            240,
            100,
            22
          ]
        }
      },
      {
        "box": {
          "id": "obj-prep-port",
          "maxclass": "newobj",
          "text": "prepend port",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            ""
          ],
          "patching_rect": [
            460,
            240,
            100,
            22
          ]
        }
      },
      {
        "box": {
          "id": "obj-lbl-vars",
          "maxclass": "comment",
          "text": "Vars",
          "numinlets": 1,
          "numoutlets": 0,
          "patching_rect": [
            80,
            170,
            40,
            18
          ],
          "presentation": 1,
          "presentation_rect": [
            96,
            28,
            36,
            16
          ]
        }
      },
      {
        "box": {
          "id": "obj-lbl-port",
          "maxclass": "comment",
          "text": "Port",
          "numinlets": 1,
          "numoutlets": 0,
          "patching_rect": [
            270,
            170,
            40,
            18
          ],
          "presentation": 1,
          "presentation_rect": [
            254,
            28,
            46,
            16
          ]
        }
      },
      {
        "box": {
          "id": "obj-status",
          "maxclass": "comment",
          "text": "Waiting for Live...",
          "numinlets": 1,
          "numoutlets": 0,
          "patching_rect": [
            20,
            420,
            400,
            88
          ],
          "presentation": 1,
          "presentation_rect": [
            4,
            78,
            296,
            88
          ]
        }
      },
      {
        "box": {
          "id": "obj-help",
          "maxclass": "comment",
          "text": "midifill: select a MIDI clip, press Fill. Start the server first: midifill serve (the port here must match; replies come back on UDP 9001).",
          "numinlets": 1,
          "numoutlets": 0,
          "patching_rect": [
            20,
            460,
            520,
            32
          ]
        }
      },
      {
        "box": {
          "id": "obj-ctl-pitch_range",
          "maxclass": "live.menu",
          "numinlets": 1,
          "numoutlets": 3,
          "outlettype": [
            "",
            "",
            "float"
          ],
          "parameter_enable": 1,
          "varname": "Pitch range",
          "patching_rect": [
            20,
            560,
            90,
            15
          ],
          "presentation": 1,
          "presentation_rect": [
            370,
            4,
            86,
            15
          ],
          "saved_attribute_attributes": {
            "valueof": {
              "parameter_longname": "Pitch range",
              "parameter_shortname": "Pitch range",
              "parameter_type": 2,
              "parameter_enum": [
                "auto",
                "off",
                "28-60",
                "36-72",
                "48-84",
                "60-96"
              ],
              "parameter_mmax": 5,
              "parameter_initial_enable": 1,
              "parameter_initial": [
                0
              ]
            }
          }
        }
      },
      {
        "box": {
          "id": "obj-ctl-lbl-pitch_range",
          "maxclass": "comment",
          "text": "Pitch range",
          "numinlets": 1,
          "numoutlets": 0,
          "patching_rect": [
            20,
            540,
            90,
            18
          ],
          "presentation": 1,
          "presentation_rect": [
            308,
            4,
            60,
            16
          ],
          "fontsize": 8.0
        }
      },
      {
        "box": {
          "id": "obj-ctl-prep-pitch_range",
          "maxclass": "newobj",
          "text": "prepend menu pitch_range",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            ""
          ],
          "patching_rect": [
            20,
            580,
            100,
            22
          ]
        }
      },
      {
        "box": {
          "id": "obj-ctl-max_polyphony",
          "maxclass": "live.menu",
          "numinlets": 1,
          "numoutlets": 3,
          "outlettype": [
            "",
            "",
            "float"
          ],
          "parameter_enable": 1,
          "varname": "Max polyphony",
          "patching_rect": [
            130,
            560,
            90,
            15
          ],
          "presentation": 1,
          "presentation_rect": [
            370,
            23,
            86,
            15
          ],
          "saved_attribute_attributes": {
            "valueof": {
              "parameter_longname": "Max polyphony",
              "parameter_shortname": "Max polyphon",
              "parameter_type": 2,
              "parameter_enum": [
                "auto",
                "off",
                "1",
                "2",
                "3",
                "4",
                "6",
                "8"
              ],
              "parameter_mmax": 7,
              "parameter_initial_enable": 1,
              "parameter_initial": [
                0
              ]
            }
          }
        }
      },
      {
        "box": {
          "id": "obj-ctl-lbl-max_polyphony",
          "maxclass": "comment",
          "text": "Max polyphony",
          "numinlets": 1,
          "numoutlets": 0,
          "patching_rect": [
            130,
            540,
            90,
            18
          ],
          "presentation": 1,
          "presentation_rect": [
            308,
            23,
            60,
            16
          ],
          "fontsize": 8.0
        }
      },
      {
        "box": {
          "id": "obj-ctl-prep-max_polyphony",
          "maxclass": "newobj",
          "text": "prepend menu max_polyphony",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            ""
          ],
          "patching_rect": [
            130,
            580,
            100,
            22
          ]
        }
      },
      {
        "box": {
          "id": "obj-ctl-density",
          "maxclass": "live.menu",
          "numinlets": 1,
          "numoutlets": 3,
          "outlettype": [
            "",
            "",
            "float"
          ],
          "parameter_enable": 1,
          "varname": "Density",
          "patching_rect": [
            240,
            560,
            90,
            15
          ],
          "presentation": 1,
          "presentation_rect": [
            370,
            42,
            86,
            15
          ],
          "saved_attribute_attributes": {
            "valueof": {
              "parameter_longname": "Density",
              "parameter_shortname": "Density",
              "parameter_type": 2,
              "parameter_enum": [
                "auto",
                "0",
                "2",
                "4",
                "8",
                "16"
              ],
              "parameter_mmax": 5,
              "parameter_initial_enable": 1,
              "parameter_initial": [
                0
              ]
            }
          }
        }
      },
      {
        "box": {
          "id": "obj-ctl-lbl-density",
          "maxclass": "comment",
          "text": "Density",
          "numinlets": 1,
          "numoutlets": 0,
          "patching_rect": [
            240,
            540,
            90,
            18
          ],
          "presentation": 1,
          "presentation_rect": [
            308,
            42,
            60,
            16
          ],
          "fontsize": 8.0
        }
      },
      {
        "box": {
          "id": "obj-ctl-prep-density",
          "maxclass": "newobj",
          "text": "prepend menu density",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            ""
          ],
          "patching_rect": [
            240,
            580,
            100,
            22
          ]
        }
      },
      {
        "box": {
          "id": "obj-ctl-harmony",
          "maxclass": "live.menu",
          "numinlets": 1,
          "numoutlets": 3,
          "outlettype": [
            "",
            "",
            "float"
          ],
          "parameter_enable": 1,
          "varname": "Harmony",
          "patching_rect": [
            350,
            560,
            90,
            15
          ],
          "presentation": 1,
          "presentation_rect": [
            370,
            61,
            86,
            15
          ],
          "saved_attribute_attributes": {
            "valueof": {
              "parameter_longname": "Harmony",
              "parameter_shortname": "Harmony",
              "parameter_type": 2,
              "parameter_enum": [
                "auto",
                "off",
                "0.2",
                "0.4",
                "0.6",
                "0.8",
                "1"
              ],
              "parameter_mmax": 6,
              "parameter_initial_enable": 1,
              "parameter_initial": [
                0
              ]
            }
          }
        }
      },
      {
        "box": {
          "id": "obj-ctl-lbl-harmony",
          "maxclass": "comment",
          "text": "Harmony",
          "numinlets": 1,
          "numoutlets": 0,
          "patching_rect": [
            350,
            540,
            90,
            18
          ],
          "presentation": 1,
          "presentation_rect": [
            308,
            61,
            60,
            16
          ],
          "fontsize": 8.0
        }
      },
      {
        "box": {
          "id": "obj-ctl-prep-harmony",
          "maxclass": "newobj",
          "text": "prepend menu harmony",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            ""
          ],
          "patching_rect": [
            350,
            580,
            100,
            22
          ]
        }
      },
      {
        "box": {
          "id": "obj-ctl-kit",
          "maxclass": "live.menu",
          "numinlets": 1,
          "numoutlets": 3,
          "outlettype": [
            "",
            "",
            "float"
          ],
          "parameter_enable": 1,
          "varname": "Kit",
          "patching_rect": [
            460,
            560,
            90,
            15
          ],
          "presentation": 1,
          "presentation_rect": [
            370,
            80,
            86,
            15
          ],
          "saved_attribute_attributes": {
            "valueof": {
              "parameter_longname": "Kit",
              "parameter_shortname": "Kit",
              "parameter_type": 2,
              "parameter_enum": [
                "auto",
                "off",
                "36,38,42,46,49"
              ],
              "parameter_mmax": 2,
              "parameter_initial_enable": 1,
              "parameter_initial": [
                0
              ]
            }
          }
        }
      },
      {
        "box": {
          "id": "obj-ctl-lbl-kit",
          "maxclass": "comment",
          "text": "Kit",
          "numinlets": 1,
          "numoutlets": 0,
          "patching_rect": [
            460,
            540,
            90,
            18
          ],
          "presentation": 1,
          "presentation_rect": [
            308,
            80,
            60,
            16
          ],
          "fontsize": 8.0
        }
      },
      {
        "box": {
          "id": "obj-ctl-prep-kit",
          "maxclass": "newobj",
          "text": "prepend menu kit",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            ""
          ],
          "patching_rect": [
            460,
            580,
            100,
            22
          ]
        }
      },
      {
        "box": {
          "id": "obj-ctl-groove",
          "maxclass": "live.menu",
          "numinlets": 1,
          "numoutlets": 3,
          "outlettype": [
            "",
            "",
            "float"
          ],
          "parameter_enable": 1,
          "varname": "Groove",
          "patching_rect": [
            570,
            560,
            90,
            15
          ],
          "presentation": 1,
          "presentation_rect": [
            370,
            99,
            86,
            15
          ],
          "saved_attribute_attributes": {
            "valueof": {
              "parameter_longname": "Groove",
              "parameter_shortname": "Groove",
              "parameter_type": 2,
              "parameter_enum": [
                "auto",
                "on",
                "off"
              ],
              "parameter_mmax": 2,
              "parameter_initial_enable": 1,
              "parameter_initial": [
                0
              ]
            }
          }
        }
      },
      {
        "box": {
          "id": "obj-ctl-lbl-groove",
          "maxclass": "comment",
          "text": "Groove",
          "numinlets": 1,
          "numoutlets": 0,
          "patching_rect": [
            570,
            540,
            90,
            18
          ],
          "presentation": 1,
          "presentation_rect": [
            308,
            99,
            60,
            16
          ],
          "fontsize": 8.0
        }
      },
      {
        "box": {
          "id": "obj-ctl-prep-groove",
          "maxclass": "newobj",
          "text": "prepend menu groove",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            ""
          ],
          "patching_rect": [
            570,
            580,
            100,
            22
          ]
        }
      },
      {
        "box": {
          "id": "obj-ctl-durations",
          "maxclass": "live.menu",
          "numinlets": 1,
          "numoutlets": 3,
          "outlettype": [
            "",
            "",
            "float"
          ],
          "parameter_enable": 1,
          "varname": "Durations",
          "patching_rect": [
            20,
            620,
            90,
            15
          ],
          "presentation": 1,
          "presentation_rect": [
            370,
            118,
            86,
            15
          ],
          "saved_attribute_attributes": {
            "valueof": {
              "parameter_longname": "Durations",
              "parameter_shortname": "Durations",
              "parameter_type": 2,
              "parameter_enum": [
                "auto",
                "off"
              ],
              "parameter_mmax": 1,
              "parameter_initial_enable": 1,
              "parameter_initial": [
                0
              ]
            }
          }
        }
      },
      {
        "box": {
          "id": "obj-ctl-lbl-durations",
          "maxclass": "comment",
          "text": "Durations",
          "numinlets": 1,
          "numoutlets": 0,
          "patching_rect": [
            20,
            600,
            90,
            18
          ],
          "presentation": 1,
          "presentation_rect": [
            308,
            118,
            60,
            16
          ],
          "fontsize": 8.0
        }
      },
      {
        "box": {
          "id": "obj-ctl-prep-durations",
          "maxclass": "newobj",
          "text": "prepend menu durations",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            ""
          ],
          "patching_rect": [
            20,
            640,
            100,
            22
          ]
        }
      },
      {
        "box": {
          "id": "obj-ctl-feel",
          "maxclass": "live.menu",
          "numinlets": 1,
          "numoutlets": 3,
          "outlettype": [
            "",
            "",
            "float"
          ],
          "parameter_enable": 1,
          "varname": "Feel",
          "patching_rect": [
            130,
            620,
            90,
            15
          ],
          "presentation": 1,
          "presentation_rect": [
            370,
            137,
            86,
            15
          ],
          "saved_attribute_attributes": {
            "valueof": {
              "parameter_longname": "Feel",
              "parameter_shortname": "Feel",
              "parameter_type": 2,
              "parameter_enum": [
                "auto",
                "off",
                "straight",
                "triplet",
                "swing",
                "loose"
              ],
              "parameter_mmax": 5,
              "parameter_initial_enable": 1,
              "parameter_initial": [
                0
              ]
            }
          }
        }
      },
      {
        "box": {
          "id": "obj-ctl-lbl-feel",
          "maxclass": "comment",
          "text": "Feel",
          "numinlets": 1,
          "numoutlets": 0,
          "patching_rect": [
            130,
            600,
            90,
            18
          ],
          "presentation": 1,
          "presentation_rect": [
            308,
            137,
            60,
            16
          ],
          "fontsize": 8.0
        }
      },
      {
        "box": {
          "id": "obj-ctl-prep-feel",
          "maxclass": "newobj",
          "text": "prepend menu feel",
          "numinlets": 1,
          "numoutlets": 1,
          "outlettype": [
            ""
          ],
          "patching_rect": [
            130,
            640,
            100,
            22
          ]
        }
      }
    ],
    "lines": [
      {
        "patchline": {
          "source": [
            "obj-thisdevice",
            0
          ],
          "destination": [
            "obj-init",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-midiin",
            0
          ],
          "destination": [
            "obj-midiout",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-init",
            0
          ],
          "destination": [
            "obj-js",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-js",
            0
          ],
          "destination": [
            "obj-udpsend",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-udpreceive",
            0
          ],
          "destination": [
            "obj-js",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-btn-fill",
            0
          ],
          "destination": [
            "obj-prep-fill",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-prep-fill",
            0
          ],
          "destination": [
            "obj-js",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-btn-cont",
            0
          ],
          "destination": [
            "obj-prep-cont",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-prep-cont",
            0
          ],
          "destination": [
            "obj-js",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-btn-vary",
            0
          ],
          "destination": [
            "obj-prep-vary",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-prep-vary",
            0
          ],
          "destination": [
            "obj-js",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-btn-cancel",
            0
          ],
          "destination": [
            "obj-prep-cancel",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-prep-cancel",
            0
          ],
          "destination": [
            "obj-js",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-temp",
            0
          ],
          "destination": [
            "obj-prep-temperature",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-prep-temperature",
            0
          ],
          "destination": [
            "obj-js",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-vars",
            0
          ],
          "destination": [
            "obj-prep-numvariations",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-prep-numvariations",
            0
          ],
          "destination": [
            "obj-js",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-keylock",
            0
          ],
          "destination": [
            "obj-prep-keylock",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-prep-keylock",
            0
          ],
          "destination": [
            "obj-js",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-port",
            0
          ],
          "destination": [
            "obj-prep-port",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-prep-port",
            0
          ],
          "destination": [
            "obj-js",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-js",
            1
          ],
          "destination": [
            "obj-status",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-together",
            0
          ],
          "destination": [
            "obj-prep-together",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-prep-together",
            0
          ],
          "destination": [
            "obj-js",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-ctl-pitch_range",
            0
          ],
          "destination": [
            "obj-ctl-prep-pitch_range",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-ctl-prep-pitch_range",
            0
          ],
          "destination": [
            "obj-js",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-ctl-max_polyphony",
            0
          ],
          "destination": [
            "obj-ctl-prep-max_polyphony",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-ctl-prep-max_polyphony",
            0
          ],
          "destination": [
            "obj-js",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-ctl-density",
            0
          ],
          "destination": [
            "obj-ctl-prep-density",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-ctl-prep-density",
            0
          ],
          "destination": [
            "obj-js",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-ctl-harmony",
            0
          ],
          "destination": [
            "obj-ctl-prep-harmony",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-ctl-prep-harmony",
            0
          ],
          "destination": [
            "obj-js",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-ctl-kit",
            0
          ],
          "destination": [
            "obj-ctl-prep-kit",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-ctl-prep-kit",
            0
          ],
          "destination": [
            "obj-js",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-ctl-groove",
            0
          ],
          "destination": [
            "obj-ctl-prep-groove",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-ctl-prep-groove",
            0
          ],
          "destination": [
            "obj-js",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-ctl-durations",
            0
          ],
          "destination": [
            "obj-ctl-prep-durations",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-ctl-prep-durations",
            0
          ],
          "destination": [
            "obj-js",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-ctl-feel",
            0
          ],
          "destination": [
            "obj-ctl-prep-feel",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-ctl-prep-feel",
            0
          ],
          "destination": [
            "obj-js",
            0
          ]
        }
      }
    ],
    "autosave": 0
  }
}